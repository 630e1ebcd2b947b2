// Prints distinguished names as Java renders them, for common/tests/dn_java.rs.
//
// Reads DER-encoded names (X.501 Name), one per line in hex, on standard input, and prints
// one line per name: "OK " and the rendering, or "ERR " and the exception. Every character
// outside printable ASCII, and the backslash, is written as a backslash, "u" and four hex
// digits (one UTF-16 code unit each; the sequence itself cannot appear in Java source), so
// that values holding line breaks or lone surrogates stay on one line and arrive unchanged.
//
// The rendering is chosen by the first argument:
//   toString   X500Principal.toString(), what the platform returns in `subject` and `issuer`
//              and what anchorage reproduces (common/src/dn.rs); the default
//   RFC2253, RFC1779, CANONICAL   X500Principal.getName(format), for comparison by hand
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import javax.security.auth.x500.X500Principal;

public class DnPrint {
    public static void main(String[] args) throws Exception {
        String format = args.length > 0 ? args[0] : "toString";
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.isEmpty()) {
                continue;
            }
            try {
                X500Principal p = new X500Principal(hex(line));
                String text = format.equals("toString") ? p.toString() : p.getName(format);
                out.append("OK ").append(escape(text));
            } catch (Exception e) {
                out.append("ERR ").append(escape(e.getClass().getName() + ": " + e.getMessage()));
            }
            out.append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }

    private static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                b.append(c);
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.toString();
    }
}
