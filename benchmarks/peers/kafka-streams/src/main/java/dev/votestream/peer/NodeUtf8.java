package dev.votestream.peer;

/**
 * Bytes to a string as Node's `buffer.toString('utf8')` does (the WHATWG UTF-8 decoder): each
 * maximal invalid subsequence becomes one U+FFFD. Java's decoder groups some of them differently
 * (an encoded surrogate is one replacement there, three here), and the worker writes a malformed
 * record's key back from that string, so the peer must read keys the same way.
 */
final class NodeUtf8 {
  private NodeUtf8() {}

  static String decode(byte[] bytes) {
    StringBuilder out = new StringBuilder(bytes.length);
    int needed = 0;
    int seen = 0;
    int codePoint = 0;
    int lower = 0x80;
    int upper = 0xBF;
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xFF;
      if (needed == 0) {
        if (b <= 0x7F) {
          out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
          needed = 1;
          codePoint = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
          if (b == 0xE0) lower = 0xA0;
          if (b == 0xED) upper = 0x9F;
          needed = 2;
          codePoint = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
          if (b == 0xF0) lower = 0x90;
          if (b == 0xF4) upper = 0x8F;
          needed = 3;
          codePoint = b & 0x07;
        } else {
          out.append('\uFFFD');
        }
        continue;
      }
      if (b < lower || b > upper) {
        needed = 0;
        seen = 0;
        codePoint = 0;
        lower = 0x80;
        upper = 0xBF;
        out.append('\uFFFD');
        i--; // this byte may start the next sequence
        continue;
      }
      lower = 0x80;
      upper = 0xBF;
      codePoint = (codePoint << 6) | (b & 0x3F);
      if (++seen == needed) {
        out.appendCodePoint(codePoint);
        needed = 0;
        seen = 0;
        codePoint = 0;
      }
    }
    if (needed != 0) out.append('\uFFFD');
    return out.toString();
  }
}
