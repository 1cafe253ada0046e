export { startEmbeddedChat, type EmbeddedChat, type EmbeddedChatOptions } from './embedded-chat.ts';
export { LOBBY_SESSION_ID } from './dev-sign-in.ts';
export { devUserId } from './dev-identity.ts';
