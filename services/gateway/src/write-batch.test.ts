import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { WriteBatch } from './ws-adapter.ts';

/** A stream that records each write it is asked to make (one entry per syscall a socket would make). */
function recordingStream(): { stream: Writable; writes: string[][] } {
  const writes: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push([chunk.toString()]);
      callback();
    },
    writev(chunks, callback) {
      writes.push(chunks.map(({ chunk }) => String(chunk)));
      callback();
    },
  });
  return { stream, writes };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WriteBatch', () => {
  it('sends the frames a socket gets in one turn of the event loop in one write, in order', async () => {
    const batch = new WriteBatch();
    const a = recordingStream();
    const b = recordingStream();
    for (const frame of ['1', '2', '3']) {
      batch.hold(a.stream);
      a.stream.write(frame);
      batch.hold(b.stream);
      b.stream.write(frame);
    }
    expect(a.writes).toEqual([]);
    expect(a.stream.writableLength).toBe(3);
    await turn();
    expect(a.writes).toEqual([['1', '2', '3']]);
    expect(b.writes).toEqual([['1', '2', '3']]);
    batch.hold(a.stream);
    a.stream.write('4');
    await turn();
    expect(a.writes).toEqual([['1', '2', '3'], ['4']]);
  });

  it('writes out what a socket holds at once when it is released (before it is dropped)', () => {
    const batch = new WriteBatch();
    const a = recordingStream();
    batch.hold(a.stream);
    a.stream.write('bye');
    batch.release(a.stream);
    expect(a.writes).toEqual([['bye']]);
    batch.flush();
    expect(a.writes).toEqual([['bye']]);
  });
});
