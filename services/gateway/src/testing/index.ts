export { TestClient, type Frame, type Closed } from './test-client.ts';
export { FakeChatStore } from './fake-chat-store.ts';
export { memoryBackends, startMemoryGateway, token, createSession, TEST_SECRET, type SharedBackends, type StartedGateway } from './memory-gateway.ts';
export { FakeSocket } from './fake-socket.ts';
export { parseServerFrames, rawWebSocket, type RawFrame } from './raw-client.ts';
