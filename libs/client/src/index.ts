export { ChatClient, type ChatClientEvents, type ChatClientOptions } from './chat-client.ts';
export { ChatStore, type ChatState, type Listener, type OutgoingMessage } from './chat-store.ts';
export { ApiClient, type ApiClientOptions, type FetchLike, type HistoryQuery } from './api-client.ts';
export type { ConnectionState, ConnectionStatus } from './connection-state.ts';
export { browserEnvironment, type EnvironmentSignals } from './environment.ts';
export { ChatClientError, errorCodeOfClose } from './errors.ts';
export { ReconnectPolicy, type BackoffOptions, type ReconnectStep } from './reconnect-policy.ts';
export type { WebSocketConstructor, WebSocketLike } from './socket.ts';
export { newClientMsgId } from './client-msg-id.ts';
