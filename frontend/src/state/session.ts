import { createStore, type Store } from './store';

const TOKEN_KEY = 'chorus.token';
const ACTOR_KEY = 'chorus.actor';
const DEFAULT_ACTOR = 'web-ui';

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // Storage can be unavailable (private mode); the value then lives for this page only.
  }
}

/** The bearer token, the "ask for a token" flag and the label this person acts under. */
export interface Session {
  token: Store<string | null>;
  tokenRequested: Store<boolean>;
  actor: Store<string>;
  saveToken: (token: string) => void;
  saveActor: (actor: string) => void;
}

export function createSession(): Session {
  const token = createStore<string | null>(read(TOKEN_KEY));
  const tokenRequested = createStore(false);
  const actor = createStore(read(ACTOR_KEY) ?? DEFAULT_ACTOR);
  return {
    token,
    tokenRequested,
    actor,
    saveToken: (value) => {
      write(TOKEN_KEY, value);
      token.set(value);
      tokenRequested.set(false);
    },
    saveActor: (value) => {
      write(ACTOR_KEY, value);
      actor.set(value);
    },
  };
}
