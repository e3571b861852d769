package dev.intervirt.agent.protocol;

/** Client text made safe to quote in a message or a log line. */
public final class Text {

    private static final int MAX_CODE_POINTS = 64;

    private Text() {
    }

    /** Shortened to 64 code points, control and format characters shown as escapes. */
    public static String printable(String text) {
        if (text == null) {
            return "";
        }
        if (isShortPrintableAscii(text)) {
            return text; // every uuid the client sends: no copy on every request's log line
        }
        StringBuilder sb = new StringBuilder();
        text.codePoints().limit(MAX_CODE_POINTS).forEach(cp -> {
            int t = Character.getType(cp);
            if (Character.isISOControl(cp) || t == Character.FORMAT || t == Character.SURROGATE
                    || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        if (text.codePointCount(0, text.length()) > MAX_CODE_POINTS) {
            sb.append('…');
        }
        return sb.toString();
    }

    private static boolean isShortPrintableAscii(String text) {
        if (text.length() > MAX_CODE_POINTS) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }
}
