/**
 * Wraps a transport's framing of a frame (`json`, `seq`) with a one-entry cache: live delivery writes
 * the newest frame to each watcher in turn, so every watcher after the first gets the same bytes.
 */
export function encodeOnce(
  encode: (json: string, seq: number) => Buffer,
): (json: string, seq: number) => Buffer {
  let lastJson: string | undefined;
  let last: Buffer | undefined;
  return (json, seq) => {
    if (json !== lastJson) {
      last = encode(json, seq);
      lastJson = json;
    }
    return last!;
  };
}
