// The engine's public surface. Everything outside engine/ imports from here.

import { ladderFactory } from '../native/index.js';
import type { LadderFactory } from '../native/ladder.js';
import { Engine } from './engine.js';
import type { EngineSnapshot } from './snapshot.js';

export { Engine, type EngineOptions } from './engine.js';
export type * from './commands.js';
export type * from './events.js';
export type * from './snapshot.js';
export { Instrument } from './instrument.js';
export {
  EventBuffer, EV_ACCEPTED, EV_BOOK, EV_BOOK_DELTA, EV_CANCELLED, EV_CANCEL_REJECTED, EV_INSTRUMENT, EV_MASS_CANCELLED,
  EV_REJECTED, EV_REPLACED, EV_STATUS, EV_TRADE,
} from './event-buffer.js';
export { formatEvent, sideName, type ExternalEvent, type InstrumentLookup } from './format.js';
export { formatNotional, formatScaled } from './decimal.js';
export { ID_FIELDS, ID_RULE, MAX_ID_LENGTH, MAX_INTEGER, idProblem, isId, isInteger } from './limits.js';
export { notionalFrom, notionalPlain, type Notional } from './notional.js';

/** An empty engine on the ladder the loader picked (native when built). */
export function createEngine(ladder: LadderFactory = ladderFactory()): Engine {
  return new Engine({ ladder });
}

export function restoreEngine(snap: EngineSnapshot, ladder: LadderFactory = ladderFactory()): Engine {
  return Engine.restore(snap, { ladder });
}
