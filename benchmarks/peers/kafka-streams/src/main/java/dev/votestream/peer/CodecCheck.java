package dev.votestream.peer;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A test entry point, not part of the peer's run: reads `votes` values (one base64 line each, or
 * NULL) on stdin and prints what the peer makes of each, so a test can hold the peer's decoding and
 * encoding against voting/vote.ts on many inputs at once. Per line: `D <error>` (dead-lettered),
 * `M <rejected value>` (malformed), or `V <accepted value at 3@17> <rejected value, closed>`, each
 * value base64.
 */
public final class CodecCheck {
  private CodecCheck() {}

  public static void main(String[] args) throws IOException {
    Base64.Encoder b64 = Base64.getEncoder();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      byte[] bytes = line.equals("NULL") ? null : Base64.getDecoder().decode(line);
      VoteDecoder.Decoded d = VoteDecoder.decode(bytes);
      switch (d.kind) {
        case UNDECODABLE -> out.write("D " + b64.encodeToString(JsJsonWriter.utf8(d.error)));
        case MALFORMED -> out.write("M " + b64.encodeToString(VoteDecoder.malformedRejection(d.raw)));
        case VALID -> out.write("V " + b64.encodeToString(d.vote.accepted(3, 17)) + " " + b64.encodeToString(d.vote.rejected("closed")));
      }
      out.write('\n');
    }
    out.flush();
  }
}
