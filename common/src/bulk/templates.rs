//! The templates the console offers, as the platform's bulk registration dialog does.

/// Simple registration: certificate devices by id alone. (The platform's simple template,
/// `ID;PATH`, creates device requests awaiting acceptance, which anchorage does not have.)
pub const SIMPLE: &str = "ID;AUTH_TYPE\nsimple-device-01;CERTIFICATES\nsimple-device-02;CERTIFICATES\n";
/// Full registration with passwords, the platform's header, quoted.
pub const FULL: &str = "\"ID\";\"TYPE\";\"NAME\";\"ICCID\";\"IDTYPE\";\"PATH\";\"SHELL\";\"AUTH_TYPE\";\"CREDENTIALS\"\n\
\"device-01\";\"c8y_Device\";\"Device 01\";\"\";\"c8y_Serial\";\"Group A\";\"1\";\"BASIC\";\"a-long-device-password-01\"\n";
/// Certificate devices that enroll over EST with a one-time password (`ENROLLMENT_OTP`), the
/// platform's "Full registration with device certificate creation".
pub const ENROLLMENT: &str = "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\";\"ENROLLMENT_OTP\"\n\"est-device-01\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"EST device 01\";\"replace-with-a-one-time-password\"\n";
/// Certificate devices: `AUTH_TYPE=CERTIFICATES`, empty `CREDENTIALS`.
pub const CERTIFICATES: &str = "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\"\n\"cert-device-01\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"Certificate device 01\"\n";
