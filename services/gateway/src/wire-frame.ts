/** FIN and the text opcode: every frame the gateway sends is one whole text message. */
const FIN_TEXT = 0x81;

/**
 * The bytes of an unmasked WebSocket text frame (RFC 6455 §5.2) carrying `payload`, as a server
 * sends it: header and payload in one buffer, so one write puts the whole frame on a socket.
 */
export function encodeTextFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length <= 0xffff ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (length < 126) {
    frame[1] = length;
  } else if (length <= 0xffff) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/**
 * Encodes a shared message frame once for all of its recipients: a fan-out hands the same buffer
 * to every local socket of the session one after another, so remembering the last one is enough.
 */
export class SharedFrameEncoder {
  #payload: Buffer | undefined;
  #frame: Buffer | undefined;

  frameOf(payload: Buffer): Buffer {
    if (payload !== this.#payload || this.#frame === undefined) {
      this.#frame = encodeTextFrame(payload);
      this.#payload = payload;
    }
    return this.#frame;
  }
}
