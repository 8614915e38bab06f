import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULTS, type PasswordlessProps } from './passwordless-stack.ts';

/** Reads deploy-time parameters from CDK context (`cdk deploy -c name=value`, or cdk.context.json). */
export function parametersFromContext(get: (key: string) => unknown): PasswordlessProps {
  const text = (key: string): string | undefined => {
    const value = get(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const required = (key: string): string => {
    const value = text(key);
    if (value === undefined) throw new Error(`missing required parameter ${key}: pass it with -c ${key}=...`);
    return value;
  };
  const number = (key: string, fallback: number): number => {
    const raw = text(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`invalid parameter ${key}: ${raw} is not a number`);
    return value;
  };
  const retention = number('logRetentionDays', DEFAULTS.logRetention);
  if (!Object.values(logs.RetentionDays).includes(retention)) {
    throw new Error(`invalid parameter logRetentionDays: ${retention} is not a CloudWatch Logs retention`);
  }
  return {
    assetsDir: text('assetsDir') ?? path.join(import.meta.dirname, '..', '..', 'target', 'lambda'),
    senderDomain: required('senderDomain'),
    mailFrom: text('mailFrom'),
    appName: text('appName') ?? DEFAULTS.appName,
    loginUrl: required('loginUrl'),
    signInUrl: required('signInUrl'),
    alarmTopicArn: required('alarmTopicArn'),
    sesMaxSendRate: number('sesMaxSendRate', DEFAULTS.sesMaxSendRate),
    accessTokenValidity: Duration.minutes(number('accessTokenValidityMinutes', DEFAULTS.accessTokenValidity.toMinutes())),
    idTokenValidity: Duration.minutes(number('idTokenValidityMinutes', DEFAULTS.idTokenValidity.toMinutes())),
    refreshTokenValidity: Duration.days(number('refreshTokenValidityDays', DEFAULTS.refreshTokenValidity.toDays())),
    refreshTokenGraceSeconds: number('refreshTokenGraceSeconds', DEFAULTS.refreshTokenGraceSeconds),
    codeTtl: Duration.seconds(number('codeTtlSeconds', DEFAULTS.codeTtl.toSeconds())),
    codeLength: number('codeLength', DEFAULTS.codeLength),
    maxAttempts: number('maxAttempts', DEFAULTS.maxAttempts),
    resendAfterSeconds: number('resendAfterSeconds', DEFAULTS.resendAfterSeconds),
    maxEmailsPerHour: number('maxEmailsPerHour', DEFAULTS.maxEmailsPerHour),
    maxWrongAnswersPerCode: number('maxWrongAnswersPerCode', DEFAULTS.maxWrongAnswersPerCode),
    maxEmailsPerAddressPerHour: number('maxEmailsPerAddressPerHour', DEFAULTS.maxEmailsPerAddressPerHour),
    // Checked against EMAIL_HINTS by the stack, like the numbers' ranges.
    emailHint: (text('emailHint') ?? DEFAULTS.emailHint) as PasswordlessProps['emailHint'],
    guessBackoffBaseSeconds: number('guessBackoffBaseSeconds', DEFAULTS.guessBackoffBaseSeconds),
    guessBackoffMaxSeconds: number('guessBackoffMaxSeconds', DEFAULTS.guessBackoffMaxSeconds),
    deadCodesAlarmThreshold: number('deadCodesAlarmThreshold', DEFAULTS.deadCodesAlarmThreshold),
    logRetention: retention as logs.RetentionDays,
    apiAllowedOrigins: (text('apiAllowedOrigins') ?? '').split(',').map((o) => o.trim()).filter((o) => o !== ''),
    cookieDomain: text('cookieDomain'),
    passkeyRpId: text('passkeyRpId'),
    passkeyOrigins: (text('passkeyOrigins') ?? '').split(',').map((o) => o.trim()).filter((o) => o !== ''),
    accountUrl: text('accountUrl'),
  };
}
