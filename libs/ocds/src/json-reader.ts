import { ErrorCodes } from '@app/contracts';
import { jsonParser } from 'stream-json/core/parser.js';
import { getManyValues, isMany, none } from 'stream-chain/defs.js';

/**
 * A JSON number as it was written (`1250000.50`, `1.25e6`): amounts are converted to fen from
 * this text, exactly, never through a float. `toJSON` gives the nearest double, for audit.
 */
export class JsonNumber {
  constructor(readonly text: string) {}
  toJSON(): number {
    return Number(this.text);
  }
}

/** A JSON value as the reader assembles it: numbers are {@link JsonNumber}s. */
export type JsonValue = string | boolean | null | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One release read from the input, or one that is refused as it stands. */
export type ReadItem =
  | { kind: 'release'; at: string; release: JsonObject }
  | { kind: 'refused'; at: string; code: OcdsReadCode; message: string };

export type OcdsReadCode =
  typeof ErrorCodes.OCDS_INVALID_RELEASE | typeof ErrorCodes.OCDS_RELEASE_TOO_LARGE;

/** Why the whole input is refused from that point on. */
export class OcdsFormatError extends Error {
  constructor(
    readonly code:
      | typeof ErrorCodes.OCDS_INVALID_JSON
      | typeof ErrorCodes.OCDS_NOT_OCDS
      | typeof ErrorCodes.OCDS_UNSUPPORTED_VERSION,
    message: string,
  ) {
    super(message);
  }
}

/** OCDS versions whose packages are read (SPEC §10). A package without `version` is read too. */
export const SUPPORTED_VERSIONS = ['1.1', '1.2'];

export interface ReaderLimits {
  /** a release (or a record's compiled release) assembled larger than this is refused */
  maxReleaseChars: number;
  /** nesting deeper than this inside a release is refused */
  maxDepth: number;
}

/** About 1 MiB of JSON text per release; OCDS releases are a few KiB. */
export const DEFAULT_LIMITS: ReaderLimits = { maxReleaseChars: 1 << 20, maxDepth: 32 };

const TOO_LONG = Symbol('too long');

type Logical =
  | { t: 'startObject' | 'endObject' | 'startArray' | 'endArray' }
  | { t: 'key'; v: string | typeof TOO_LONG }
  | { t: 'value'; v: JsonValue | typeof TOO_LONG; chars: number };

/**
 * Assembles one value from logical tokens, within a budget of characters and depth; past
 * either it keeps only track of where the value ends (`over` says why).
 */
class Builder {
  private readonly stack: Array<{ c: JsonObject | JsonValue[]; key: string | null }> = [];
  private root: JsonValue | undefined;
  chars = 0;
  over: 'size' | 'depth' | null = null;
  done = false;

  constructor(
    private readonly limits: ReaderLimits,
    private readonly discard = false,
  ) {}

  get value(): JsonValue | undefined {
    return this.over || this.discard ? undefined : this.root;
  }

  /** Feeds one token; true when the value is complete. */
  feed(tok: Logical): boolean {
    switch (tok.t) {
      case 'startObject':
      case 'startArray': {
        this.chars += 2;
        const c: JsonObject | JsonValue[] = tok.t === 'startObject' ? {} : [];
        if (this.stack.length >= this.limits.maxDepth) this.over ??= 'depth';
        if (!this.skip()) this.put(c);
        this.stack.push({ c, key: null });
        return false;
      }
      case 'endObject':
      case 'endArray':
        this.stack.pop();
        return this.finishIf();
      case 'key':
        if (tok.v === TOO_LONG) this.over ??= 'size';
        else {
          this.chars += tok.v.length + 3;
          this.top().key = tok.v;
        }
        this.checkSize();
        return false;
      case 'value':
        if (tok.v === TOO_LONG) this.over ??= 'size';
        this.chars += tok.chars + 1;
        this.checkSize();
        if (!this.skip() && tok.v !== TOO_LONG) this.put(tok.v);
        return this.finishIf();
    }
  }

  private skip(): boolean {
    return this.over !== null || this.discard;
  }

  private checkSize() {
    if (!this.discard && this.chars > this.limits.maxReleaseChars) this.over ??= 'size';
  }

  private top() {
    return this.stack[this.stack.length - 1];
  }

  private put(v: JsonValue) {
    if (this.stack.length === 0) {
      this.root = v;
      return;
    }
    const f = this.top();
    if (Array.isArray(f.c)) f.c.push(v);
    else define(f.c, f.key!, v);
  }

  private finishIf(): boolean {
    if (this.stack.length === 0) this.done = true;
    return this.done;
  }
}

type Frame =
  | { f: 'top' }
  | {
      f: 'doc';
      index: number;
      key: string | null;
      members: JsonObject;
      chars: number;
      over: 'size' | 'depth' | null;
      isPackage: boolean;
    }
  | { f: 'elements'; index: number; under: string; element: (at: string, b: Builder) => void }
  | {
      f: 'record';
      at: string;
      key: string | null;
      embedded: number;
      compiled: JsonObject | null;
      compiledProblem: ReadItem | null;
    }
  | { f: 'build'; builder: Builder; done: (b: Builder) => void };

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonNumber);

/**
 * Reads OCDS from text pushed in pieces, in bounded memory: a release package, a record
 * package, JSON Lines (or any concatenation) of releases or packages. Only one release is
 * held at a time: `releases[]` and `records[].releases[]` are assembled element by element,
 * and a record's `versionedRelease` is skipped without being assembled. A record's
 * embedded releases are read; when it has only linked ones, its `compiledRelease` is.
 *
 * `push` returns the releases completed by that piece; a structural problem (not JSON, not
 * OCDS, an unsupported package version) throws {@link OcdsFormatError}.
 */
export class OcdsReader {
  // the flushable's type takes strings only; it is flushed with `none`, as stream-chain does
  private readonly parse = jsonParser({
    packKeys: false,
    packStrings: false,
    packNumbers: false,
    streamValues: true,
    jsonStreaming: true,
  });
  private readonly stack: Frame[] = [{ f: 'top' }];
  private out: ReadItem[] = [];
  private docs = 0;
  private scalar: { kind: 'key' | 'string' | 'number'; parts: string[]; chars: number } | null =
    null;
  /** releases read so far (a version seen after them cannot undo them) */
  releases = 0;

  constructor(private readonly limits: ReaderLimits = DEFAULT_LIMITS) {}

  push(text: string): ReadItem[] {
    let tokens;
    try {
      tokens = this.parse(text);
    } catch (err) {
      throw new OcdsFormatError(
        ErrorCodes.OCDS_INVALID_JSON,
        `not valid JSON: ${(err as Error).message}`,
      );
    }
    this.tokens(tokens);
    return this.take();
  }

  end(): ReadItem[] {
    let tokens;
    try {
      tokens = (this.parse as unknown as (v: typeof none) => unknown)(none);
    } catch (err) {
      throw new OcdsFormatError(
        ErrorCodes.OCDS_INVALID_JSON,
        `not valid JSON: ${(err as Error).message}`,
      );
    }
    this.tokens(tokens);
    if (this.stack.length !== 1)
      throw new OcdsFormatError(
        ErrorCodes.OCDS_INVALID_JSON,
        'not valid JSON: the input ends inside a value',
      );
    if (this.docs === 0)
      throw new OcdsFormatError(ErrorCodes.OCDS_NOT_OCDS, 'the input holds no JSON value');
    return this.take();
  }

  private take(): ReadItem[] {
    const items = this.out;
    this.out = [];
    return items;
  }

  private tokens(r: unknown) {
    if (r === none) return;
    const list = isMany(r) ? (getManyValues(r) as RawToken[]) : [r as RawToken];
    for (const t of list) this.raw(t);
  }

  /** Raw parser tokens → logical ones (keys, strings and numbers whole, or TOO_LONG). */
  private raw(t: RawToken) {
    switch (t.name) {
      case 'startKey':
        this.scalar = { kind: 'key', parts: [], chars: 0 };
        return;
      case 'startString':
        this.scalar = { kind: 'string', parts: [], chars: 0 };
        return;
      case 'startNumber':
        this.scalar = { kind: 'number', parts: [], chars: 0 };
        return;
      case 'stringChunk':
      case 'numberChunk': {
        const s = this.scalar!;
        const chunk = t.value as string;
        s.chars += chunk.length;
        if (s.chars <= this.limits.maxReleaseChars) s.parts.push(chunk);
        else s.parts = [];
        return;
      }
      case 'endKey':
      case 'endString':
      case 'endNumber': {
        const s = this.scalar!;
        this.scalar = null;
        const text = s.chars <= this.limits.maxReleaseChars ? s.parts.join('') : TOO_LONG;
        if (s.kind === 'key') this.logical({ t: 'key', v: text });
        else
          this.logical({
            t: 'value',
            v: text === TOO_LONG ? TOO_LONG : s.kind === 'number' ? new JsonNumber(text) : text,
            chars: s.chars + 2,
          });
        return;
      }
      case 'nullValue':
      case 'trueValue':
      case 'falseValue':
        this.logical({ t: 'value', v: t.value as boolean | null, chars: 5 });
        return;
      case 'startObject':
      case 'endObject':
      case 'startArray':
      case 'endArray':
        this.logical({ t: t.name });
        return;
      default:
        return; // packed duplicates (not produced with these options), whitespace
    }
  }

  private get frame(): Frame {
    return this.stack[this.stack.length - 1];
  }

  /** Starts assembling (or skipping) the value whose first token is `tok`. */
  private build(tok: Logical, done: (b: Builder) => void, discard = false) {
    const builder = new Builder(this.limits, discard);
    if (builder.feed(tok)) done(builder);
    else this.stack.push({ f: 'build', builder, done });
  }

  private logical(tok: Logical) {
    const fr = this.frame;
    switch (fr.f) {
      case 'build':
        if (fr.builder.feed(tok)) {
          this.stack.pop();
          fr.done(fr.builder);
        }
        return;
      case 'top':
        return this.topValue(tok);
      case 'doc':
        return this.docToken(fr, tok);
      case 'elements':
        return this.elementToken(fr, tok);
      case 'record':
        return this.recordToken(fr, tok);
    }
  }

  private topValue(tok: Logical) {
    const index = this.docs++;
    if (tok.t !== 'startObject')
      throw new OcdsFormatError(
        ErrorCodes.OCDS_NOT_OCDS,
        `value ${index + 1} of the input is not a JSON object: expected a release package, a record package or a release`,
      );
    this.stack.push({
      f: 'doc',
      index,
      key: null,
      members: {},
      chars: 2,
      over: null,
      isPackage: false,
    });
  }

  /** Where in the input: `releases[3]`, or `[2].releases[3]` from the second value on. */
  private where(index: number, rest: string): string {
    return index > 0 ? `[${index}]${rest ? `.${rest}` : ''}` : rest;
  }

  private docToken(fr: Extract<Frame, { f: 'doc' }>, tok: Logical) {
    if (tok.t === 'key') {
      if (tok.v === TOO_LONG) fr.over ??= 'size';
      fr.key = tok.v === TOO_LONG ? null : tok.v;
      return;
    }
    if (tok.t === 'endObject') {
      this.stack.pop();
      if (fr.isPackage) return;
      // no releases[] nor records[]: the object is a release itself
      const at = this.where(fr.index, '') || '(release)';
      if (fr.over) this.out.push(tooLarge(at, fr.over));
      else this.emitRelease(at, fr.members);
      return;
    }
    const key = fr.key;
    if (key === 'releases' && tok.t === 'startArray') {
      fr.isPackage = true;
      this.stack.push({
        f: 'elements',
        index: 0,
        under: this.where(fr.index, 'releases'),
        element: (at, b) => this.finishRelease(at, b),
      });
      return;
    }
    if (key === 'records' && tok.t === 'startArray') {
      fr.isPackage = true;
      this.stack.push({
        f: 'elements',
        index: 0,
        under: this.where(fr.index, 'records'),
        element: () => undefined, // records are objects: see elementToken
      });
      return;
    }
    // any other member is kept (a release's fields, a package's metadata), within the budget
    this.build(tok, (b) => {
      fr.chars += b.chars + (key?.length ?? 0) + 3;
      if (b.over) fr.over ??= b.over;
      if (fr.chars > this.limits.maxReleaseChars) fr.over ??= 'size';
      if (key === 'version') this.checkVersion(b.value);
      if (!fr.over && key !== null && b.value !== undefined) define(fr.members, key, b.value);
    });
  }

  private checkVersion(v: JsonValue | undefined) {
    if (typeof v === 'string' && SUPPORTED_VERSIONS.includes(v)) return;
    throw new OcdsFormatError(
      ErrorCodes.OCDS_UNSUPPORTED_VERSION,
      `package version ${JSON.stringify(v ?? null)} is not supported (${SUPPORTED_VERSIONS.join(', ')})`,
    );
  }

  private elementToken(fr: Extract<Frame, { f: 'elements' }>, tok: Logical) {
    if (tok.t === 'endArray') {
      this.stack.pop();
      return;
    }
    const at = `${fr.under}[${fr.index++}]`;
    if (!fr.under.endsWith('records')) {
      this.build(tok, (b) => fr.element(at, b));
      return;
    }
    if (tok.t !== 'startObject') {
      this.build(tok, () => undefined, true);
      this.out.push({
        kind: 'refused',
        at,
        code: ErrorCodes.OCDS_INVALID_RELEASE,
        message: 'a record must be an object',
      });
      return;
    }
    this.stack.push({
      f: 'record',
      at,
      key: null,
      embedded: 0,
      compiled: null,
      compiledProblem: null,
    });
  }

  private recordToken(fr: Extract<Frame, { f: 'record' }>, tok: Logical) {
    if (tok.t === 'key') {
      fr.key = tok.v === TOO_LONG ? null : tok.v;
      return;
    }
    if (tok.t === 'endObject') {
      this.stack.pop();
      if (fr.embedded > 0) return;
      if (fr.compiledProblem) this.out.push(fr.compiledProblem);
      else if (fr.compiled) this.emitRelease(`${fr.at}.compiledRelease`, fr.compiled);
      else
        this.out.push({
          kind: 'refused',
          at: fr.at,
          code: ErrorCodes.OCDS_INVALID_RELEASE,
          message: 'a record needs embedded releases or a compiledRelease',
        });
      return;
    }
    if (fr.key === 'releases' && tok.t === 'startArray') {
      // embedded releases are read; linked ones ({url, date, tag}) only say where they are
      this.stack.push({
        f: 'elements',
        index: 0,
        under: `${fr.at}.releases`,
        element: (at, b) => {
          const v = b.value;
          if (!b.over && isObject(v) && v.ocid === undefined && typeof v.url === 'string') return;
          fr.embedded++;
          this.finishRelease(at, b);
        },
      });
      return;
    }
    if (fr.key === 'compiledRelease') {
      this.build(tok, (b) => {
        if (b.over) fr.compiledProblem = tooLarge(`${fr.at}.compiledRelease`, b.over);
        else if (isObject(b.value)) fr.compiled = b.value;
        else
          fr.compiledProblem = {
            kind: 'refused',
            at: `${fr.at}.compiledRelease`,
            code: ErrorCodes.OCDS_INVALID_RELEASE,
            message: 'a release must be a JSON object',
          };
      });
      return;
    }
    // ocid, versionedRelease and anything else of the record: not needed, not assembled
    this.build(tok, () => undefined, true);
  }

  private finishRelease(at: string, b: Builder) {
    if (b.over) this.out.push(tooLarge(at, b.over));
    else this.emitRelease(at, b.value);
  }

  private emitRelease(at: string, v: JsonValue | undefined) {
    this.releases++;
    if (!isObject(v)) {
      this.out.push({
        kind: 'refused',
        at,
        code: ErrorCodes.OCDS_INVALID_RELEASE,
        message: 'a release must be a JSON object',
      });
      return;
    }
    this.out.push({ kind: 'release', at, release: v });
  }
}

function tooLarge(at: string, why: 'size' | 'depth'): ReadItem {
  return why === 'size'
    ? {
        kind: 'refused',
        at,
        code: ErrorCodes.OCDS_RELEASE_TOO_LARGE,
        message: `the release is larger than ${DEFAULT_LIMITS.maxReleaseChars} characters of JSON`,
      }
    : {
        kind: 'refused',
        at,
        code: ErrorCodes.OCDS_INVALID_RELEASE,
        message: 'the release is nested too deeply',
      };
}

function define(o: JsonObject, key: string, v: JsonValue) {
  // a key named __proto__ is data here, never the prototype
  Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
}

interface RawToken {
  name: string;
  value?: unknown;
}
