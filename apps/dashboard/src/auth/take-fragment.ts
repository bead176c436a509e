import { takeTokenFromFragment } from './session';

// Imported first by main.ts: `#token=<jwt>` is taken into the session and removed from the
// address bar (history.replaceState) before the router or anything else reads the location.
takeTokenFromFragment();
