//! Certificate revocation: serials, dates and the CSV of the CRL upload (being written).
