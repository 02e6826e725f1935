import { actions, type WildcardJustification } from '../statements.ts';

export const tableIndexes: WildcardJustification = {
  reason:
    "Queries on the global secondary indexes of Sundown's own table (<table>/index/*), granted with the table " +
    'itself; the code queries byWorkload/byStatus and byWorkload/byCredential/byType/byTime.',
  applies: (s, f, st) =>
    actions(s).every((a) => a.startsWith('dynamodb:')) &&
    [...st.tableIds].some((id) => f === `Resource::<${id}.Arn>/index/*`),
};
