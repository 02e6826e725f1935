import { only, type WildcardJustification } from '../statements.ts';

const XRAY_WRITES = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

export const xrayWrites: WildcardJustification = {
  reason:
    'X-Ray PutTraceSegments/PutTelemetryRecords (added by tracing: ACTIVE) support no resource-level permissions.',
  applies: (s, f) => f === 'Resource::*' && only(s, XRAY_WRITES),
};
