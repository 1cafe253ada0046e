import { DEFAULT_MAX_MESSAGE_CHARS } from '@chat/protocol';

export interface InputBoxProps {
  text: string;
  onText: (text: string) => void;
  onSend: (body: string) => void;
  onTyping: () => void;
  disabled: boolean;
  disabledReason?: string;
  maxChars?: number;
}

/** Enter sends, Shift+Enter starts a new line. */
export function InputBox({ text, onText: setText, onSend, onTyping, disabled, disabledReason, maxChars = DEFAULT_MAX_MESSAGE_CHARS }: InputBoxProps) {
  const length = codePoints(text);
  const submit = () => {
    if (disabled || text.trim() === '') return;
    onSend(text);
    setText('');
  };
  return (
    <form
      class="input-box"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label for="chat-input" class="visually-hidden">
        Message
      </label>
      <textarea
        id="chat-input"
        rows={2}
        value={text}
        placeholder={disabled ? disabledReason : 'Write a message'}
        disabled={disabled}
        aria-describedby="chat-input-hint"
        onInput={(event) => {
          setText(event.currentTarget.value);
          onTyping();
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" disabled={disabled || text.trim() === ''}>
        Send
      </button>
      <p id="chat-input-hint" class="hint">
        Enter to send, Shift+Enter for a new line.
        {length > maxChars * 0.9 && (
          <span class={length > maxChars ? 'over' : ''} data-testid="char-count">
            {' '}
            {length} / {maxChars} characters
          </span>
        )}
      </p>
    </form>
  );
}

/** Counts as the server does: code points, so an emoji counts once. */
function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
