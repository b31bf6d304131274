import { describe, expect, it } from 'vitest';
import { DEFAULT_STAGES } from '../../transforms/metrics/index.js';
import { PIPELINE_STAGES } from './pipeline-generator.js';

describe('the demo pipeline stages', () => {
  it('are the metrics default stages, in the same order (the simulator keeps its own copy on purpose)', () => {
    expect([...PIPELINE_STAGES]).toEqual([...DEFAULT_STAGES]);
  });
});
