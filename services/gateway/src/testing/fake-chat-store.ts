import type { ChatStore, HistoryPage, HistoryRange, NewSession, SessionChanges, SessionRecord } from '@chat/core';
import type { ChatMessage } from '@chat/protocol';

/** An in-memory ChatStore with the contract's history paging, for unit tests. */
export class FakeChatStore implements ChatStore {
  readonly sessions = new Map<string, SessionRecord>();
  readonly messages = new Map<string, ChatMessage[]>();
  /** How many history pages were read, to see where a catch-up came from. */
  historyCalls = 0;

  createSession(session: NewSession): Promise<SessionRecord> {
    const record: SessionRecord = { ...session, members: [...session.members], closedAt: null };
    this.sessions.set(session.id, record);
    return Promise.resolve(record);
  }

  getSession(sessionId: string): Promise<SessionRecord | null> {
    return Promise.resolve(this.sessions.get(sessionId) ?? null);
  }

  addMembers(sessionId: string, userIds: readonly string[]): Promise<SessionRecord | null> {
    const record = this.sessions.get(sessionId);
    if (!record) return Promise.resolve(null);
    record.members = [...new Set([...record.members, ...userIds])];
    return Promise.resolve(record);
  }

  removeMember(sessionId: string, userId: string): Promise<SessionRecord | null> {
    const record = this.sessions.get(sessionId);
    if (!record) return Promise.resolve(null);
    record.members = record.members.filter((member) => member !== userId);
    return Promise.resolve(record);
  }

  updateSession(sessionId: string, changes: SessionChanges): Promise<SessionRecord | null> {
    const record = this.sessions.get(sessionId);
    if (!record) return Promise.resolve(null);
    if (changes.title !== undefined) record.title = changes.title;
    if (changes.metadata !== undefined) record.metadata = changes.metadata;
    return Promise.resolve(record);
  }

  closeSession(sessionId: string, closedAt: string): Promise<boolean> {
    const record = this.sessions.get(sessionId);
    if (!record || record.closedAt !== null) return Promise.resolve(false);
    record.closedAt = closedAt;
    return Promise.resolve(true);
  }

  history(sessionId: string, range: HistoryRange): Promise<HistoryPage> {
    this.historyCalls += 1;
    const all = [...(this.messages.get(sessionId) ?? [])].sort((a, b) => a.seq - b.seq);
    if (range.after !== undefined) {
      const after = range.after;
      const newer = all.filter((m) => m.seq > after);
      return Promise.resolve({ messages: newer.slice(0, range.limit), hasMore: newer.length > range.limit });
    }
    const before = range.before;
    const older = before === undefined ? all : all.filter((m) => m.seq < before);
    return Promise.resolve({ messages: older.slice(-range.limit), hasMore: older.length > range.limit });
  }

  maxSeq(sessionId: string): Promise<number> {
    return Promise.resolve(Math.max(0, ...(this.messages.get(sessionId) ?? []).map((m) => m.seq)));
  }

  findSent(sessionId: string, userId: string, clientMsgId: string): Promise<ChatMessage | null> {
    return Promise.resolve((this.messages.get(sessionId) ?? []).find((m) => m.userId === userId && m.clientMsgId === clientMsgId) ?? null);
  }

  insertMessages(messages: readonly ChatMessage[]): Promise<number> {
    let added = 0;
    for (const message of messages) {
      const list = this.messages.get(message.sessionId) ?? [];
      const sentBefore = (m: ChatMessage) => message.clientMsgId !== undefined && m.userId === message.userId && m.clientMsgId === message.clientMsgId;
      if (list.some((m) => m.seq === message.seq || m.id === message.id || sentBefore(m))) continue;
      list.push(message);
      this.messages.set(message.sessionId, list);
      added += 1;
    }
    return Promise.resolve(added);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
