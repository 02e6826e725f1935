/**
 * Where a use-after-revoke alert goes: Sundown's bus (source `sundown.audit`, which the bus policy
 * accepts only from Sundown's own roles, so nobody can forge an alert; the catch-all rule into the
 * BusEvents queue excludes that source) and the use-after-revoke SNS topic.
 */

import { type ClientSource, clientOf } from '../shared/clients.ts';
import { AUDIT_EVENT_SOURCE } from '../shared/contract.ts';
import {
  USE_AFTER_REVOKE_DETAIL_TYPE,
  type UseAfterRevokeDetail,
} from '../shared/schemas/use-after-revoke.ts';

/** Alerts go out with the audit records' source, so one subscription sees both. */
export const ALERT_EVENT_SOURCE = AUDIT_EVENT_SOURCE;

export interface AlertSink {
  publish(detail: UseAfterRevokeDetail): Promise<void>;
}

export class UseAfterRevokeAlerts implements AlertSink {
  constructor(
    private readonly opts: {
      events: ClientSource<import('@aws-sdk/client-eventbridge').EventBridgeClient>;
      sns: ClientSource<import('@aws-sdk/client-sns').SNSClient>;
      busName: string;
      topicArn: string;
    },
  ) {}

  async publish(detail: UseAfterRevokeDetail): Promise<void> {
    const [{ PutEventsCommand }, { PublishCommand }, events, sns] = await Promise.all([
      import('@aws-sdk/client-eventbridge'),
      import('@aws-sdk/client-sns'),
      clientOf(this.opts.events),
      clientOf(this.opts.sns),
    ]);
    const res = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.opts.busName,
            Source: ALERT_EVENT_SOURCE,
            DetailType: USE_AFTER_REVOKE_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
            Resources: [detail.roleArn],
          },
        ],
      }),
    );
    if ((res.FailedEntryCount ?? 0) > 0) {
      throw new Error(`EventBridge refused the alert: ${res.Entries?.[0]?.ErrorMessage ?? 'unknown error'}`);
    }
    await sns.send(
      new PublishCommand({
        TopicArn: this.opts.topicArn,
        Subject: `Sundown: revoked session ${detail.sessionName} used after revocation`.slice(0, 100),
        Message: JSON.stringify({ detailType: USE_AFTER_REVOKE_DETAIL_TYPE, ...detail }, null, 2),
      }),
    );
  }
}
