// Engine events as plain objects, for tests that compare them: the engine's
// apply(cmd, seq, out) appends them (its fast path writes only its buffer).

import type { Command, Engine, EngineEvent } from '../engine/index.js';

export function applied(engine: Engine, cmd: Command, seq: number): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.apply(cmd, seq, out);
  return out;
}
