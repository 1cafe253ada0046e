import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { listen } from './listen.ts';

interface Events {
  state: [string];
  message: [number, string];
  closed: [];
}

describe('listen', () => {
  it('adds each listener for its event and the cleanup removes exactly those', () => {
    const emitter = new EventEmitter();
    const heard: unknown[] = [];
    const other = () => heard.push('other');
    emitter.on('state', other);
    const stop = listen<Events>(emitter, {
      state: (state) => heard.push(`state ${state}`),
      message: (seq, body) => heard.push(`${String(seq)}: ${body}`),
      closed: () => heard.push('closed'),
    });
    emitter.emit('state', 'open');
    emitter.emit('message', 1, 'hi');
    emitter.emit('closed');
    expect(heard).toEqual(['other', 'state open', '1: hi', 'closed']);
    stop();
    emitter.emit('state', 'closed');
    emitter.emit('message', 2, 'gone');
    expect(heard).toEqual(['other', 'state open', '1: hi', 'closed', 'other']);
    expect(emitter.eventNames()).toEqual(['state']);
  });
});
