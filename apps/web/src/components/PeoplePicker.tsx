import type { ApiClient } from '@chat/client';
import type { Person } from '@chat/protocol';
import { useEffect, useId, useRef, useState } from 'preact/hooks';

export interface PeoplePickerProps {
  api: ApiClient;
  label: string;
  /** The people picked so far, in order. */
  picked: readonly Person[];
  onPick: (person: Person) => void;
  onUnpick: (personId: string) => void;
  /** Ids never offered (the caller, members already in). */
  exclude?: readonly string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEARCH_DELAY_MS = 150;

/**
 * Picks people by name: a combobox (ARIA 1.2 pattern) whose list is the server's people search.
 * Arrow keys move through the options, Enter picks, Escape closes. A pasted user id is picked
 * as it is, for someone the system has not seen yet.
 */
export function PeoplePicker({ api, label, picked, onPick, onUnpick, exclude = [] }: PeoplePickerProps) {
  const id = useId();
  const [text, setText] = useState('');
  const [options, setOptions] = useState<readonly Person[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [note, setNote] = useState('');
  const asked = useRef(0);

  const hidden = new Set([...exclude, ...picked.map((person) => person.id)]);
  const pasted = UUID.test(text.trim()) ? text.trim().toLowerCase() : undefined;
  const shown: readonly Person[] = pasted !== undefined && !hidden.has(pasted) ? [{ id: pasted, name: `User id ${pasted}` }] : options.filter((person) => !hidden.has(person.id));

  useEffect(() => {
    if (!open || pasted !== undefined) return undefined;
    const ask = ++asked.current;
    const timer = setTimeout(() => {
      api.findPeople(text.trim(), 10).then(
        (people) => {
          if (ask !== asked.current) return;
          setOptions(people);
          setNote('');
        },
        () => {
          if (ask === asked.current) setNote('People could not be searched just now; a user id can still be pasted.');
        },
      );
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [api, text, open, pasted]);

  const pick = (person: Person | undefined) => {
    if (person === undefined) return;
    onPick(person);
    setText('');
    setActive(-1);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        setOpen(true);
        setActive((index) => (shown.length === 0 ? -1 : (index + 1) % shown.length));
        break;
      case 'ArrowUp':
        event.preventDefault();
        setOpen(true);
        setActive((index) => (shown.length === 0 ? -1 : (index <= 0 ? shown.length : index) - 1));
        break;
      case 'Enter':
        // Enter picks the highlighted person (or a pasted id) rather than submitting the form.
        if (open && (active >= 0 || pasted !== undefined)) {
          event.preventDefault();
          pick(shown[Math.max(active, 0)]);
        }
        break;
      case 'Escape':
        if (open) {
          event.preventDefault();
          setOpen(false);
          setActive(-1);
        }
        break;
      default:
        break;
    }
  };

  const listId = `${id}-list`;
  const optionId = (index: number) => `${id}-option-${index}`;
  const expanded = open && shown.length > 0;
  return (
    <div class="people-picker">
      <label for={`${id}-input`}>{label}</label>
      {picked.length > 0 && (
        <ul class="picked-people" aria-label="Picked">
          {picked.map((person) => (
            <li key={person.id} class="picked-person" data-testid="picked-person">
              <span>{person.name}</span>
              <button type="button" aria-label={`Remove ${person.name}`} onClick={() => onUnpick(person.id)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <input
        id={`${id}-input`}
        type="text"
        role="combobox"
        autoComplete="off"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-activedescendant={expanded && active >= 0 ? optionId(active) : undefined}
        aria-describedby={`${id}-hint`}
        placeholder="Type a name"
        value={text}
        onInput={(event) => {
          setText(event.currentTarget.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <p id={`${id}-hint`} class="hint">
        Type part of a name and pick a person, or paste a user id.
      </p>
      <ul id={listId} role="listbox" aria-label={label} class="people-options" hidden={!expanded}>
        {shown.map((person, index) => (
          <li
            key={person.id}
            id={optionId(index)}
            role="option"
            aria-selected={index === active}
            class={index === active ? 'people-option active' : 'people-option'}
            // Picked on mousedown, before the input's blur closes the list.
            onMouseDown={(event) => {
              event.preventDefault();
              pick(person);
            }}
          >
            {person.name}
          </li>
        ))}
      </ul>
      {open && shown.length === 0 && text.trim() !== '' && note === '' && <p class="muted">No one else by that name.</p>}
      {note && <p class="muted">{note}</p>}
    </div>
  );
}
