import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DeliveryFeedback } from './delivery-feedback.ts';

/** Everything an operator chooses at deploy time (see the README's "Deploy" section). */
export interface PasswordlessProps extends StackProps {
  /** Folder holding `<function>/bootstrap.zip`, as `scripts/build-lambdas.sh` leaves them. */
  readonly assetsDir: string;
  /** SES sending identity (a domain you control; its DNS records verify it). */
  readonly senderDomain: string;
  /** The From header; defaults to `no-reply@<senderDomain>`. */
  readonly mailFrom?: string;
  /** Product name shown in emails. */
  readonly appName: string;
  /** The page that finishes sign-in (receives `username` and `code` in the URL fragment). */
  readonly loginUrl: string;
  /** The page where users start signing in (linked from the welcome email, sent after the first sign-in). */
  readonly signInUrl: string;
  /** SNS topic that hears every alarm (dead letters, mail delays, throttles, guessing). */
  readonly alarmTopicArn: string;
  /** The account's SES maximum send rate, per second (the sandbox allows 1, new production accounts 14). */
  readonly sesMaxSendRate: number;
  readonly accessTokenValidity: Duration;
  readonly idTokenValidity: Duration;
  readonly refreshTokenValidity: Duration;
  /**
   * Refresh token rotation (always on): each refresh issues a new refresh token, and the one
   * presented stays valid this long for a client's retry (0 to 60 seconds), then is refused.
   */
  readonly refreshTokenGraceSeconds: number;
  /** How long the emailed code is valid; also the Cognito session's lifetime (3 to 15 minutes). */
  readonly codeTtl: Duration;
  /** Digits in the emailed code (6 to 12; 8 by default). */
  readonly codeLength: number;
  readonly maxAttempts: number;
  /** Per user, across sessions (docs/threat-model.md): seconds before a new email may be asked for. */
  readonly resendAfterSeconds: number;
  /** Per user: emails in any hour, whatever asked for them. */
  readonly maxEmailsPerHour: number;
  /** Per code, across sessions: wrong answers before the code is dead everywhere. */
  readonly maxWrongAnswersPerCode: number;
  /**
   * Per email address, whichever account asks (docs/threat-model.md): emails in any hour. Shared by
   * create-auth-challenge (login emails) and post-authentication (the welcome email).
   */
  readonly maxEmailsPerAddressPerHour: number;
  /** What the sign-in challenge tells the browser about the address: nothing, or a masked form. */
  readonly emailHint: 'none' | 'masked';
  /**
   * Per user (triggers/src/auth_state.rs): once a code's worth of wrong answers has piled up since
   * the last sign-in, seconds before a new email may be asked for; doubles with each further code's
   * worth, up to guessBackoffMaxSeconds.
   */
  readonly guessBackoffBaseSeconds: number;
  readonly guessBackoffMaxSeconds: number;
  /** GuessingAlarm fires when one account has this many dead codes in a row within a day. */
  readonly deadCodesAlarmThreshold: number;
  readonly logRetention: logs.RetentionDays;
  /** Browser origins allowed to call the auth API with cookies (CORS and its CSRF check). */
  readonly apiAllowedOrigins: string[];
  /** `Domain` of the token cookies the auth API sets; unset means the API's own host. */
  readonly cookieDomain?: string;
  /**
   * Passkeys (docs/passkeys.md) are on when this is set: the WebAuthn relying party ID, the
   * registrable domain the passkeys belong to (e.g. example.com). Changing it later orphans every
   * passkey registered under the old one.
   */
  readonly passkeyRpId?: string;
  /** With passkeyRpId: the https origins of the pages that use passkeys, each on passkeyRpId. */
  readonly passkeyOrigins: string[];
  /** With passkeyRpId: the page where users review their passkeys (linked from the passkey notices). */
  readonly accountUrl?: string;
}

export const DEFAULTS = {
  appName: 'Passwordless',
  sesMaxSendRate: 14,
  accessTokenValidity: Duration.minutes(60),
  idTokenValidity: Duration.minutes(60),
  refreshTokenValidity: Duration.days(30),
  refreshTokenGraceSeconds: 10,
  codeTtl: Duration.minutes(3),
  codeLength: 8,
  maxAttempts: 3,
  resendAfterSeconds: 60,
  maxEmailsPerHour: 5,
  maxWrongAnswersPerCode: 5,
  maxEmailsPerAddressPerHour: 5,
  emailHint: 'none',
  guessBackoffBaseSeconds: 60,
  guessBackoffMaxSeconds: 3600,
  deadCodesAlarmThreshold: 10,
  logRetention: logs.RetentionDays.ONE_MONTH,
} as const;

/** Cognito waits 5 s for a trigger; leave a second for its own overhead. */
export const TRIGGER_TIMEOUT = Duration.seconds(4);
export const MAILER_TIMEOUT = Duration.seconds(30);
/** A feedback batch is at most ten records of two or three small table writes each. */
export const FEEDBACK_TIMEOUT = Duration.seconds(20);
/** The auth API's SDK gives up on Cognito after 20 s (a sign-in step runs up to three triggers). */
export const AUTH_API_TIMEOUT = Duration.seconds(25);
/** The namespace of the functions' Embedded Metric Format metrics (lambda-support/src/metrics.rs). */
export const METRICS_NAMESPACE = 'Passwordless';
/** The values EMAIL_HINT accepts (create-auth-challenge refuses to start with any other). */
export const EMAIL_HINTS = ['none', 'masked'] as const;
/** A mail job older than this has eaten a third of a default code's life. */
export const OLDEST_JOB_ALARM = Duration.seconds(60);
/** See docs/mailer.md: five receives before a job is parked in the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/** An SES SendEmail call takes about 100 ms, so each send in flight is worth about 10 per second. */
const SENDS_PER_SECOND_PER_SLOT = 10;

/**
 * Concurrency that keeps the mailer near the SES send rate: sends in flight ≈ rate / 10, split
 * into functions (the event source mapping's maximum concurrency, at least 2) each running up to
 * MAX_CONCURRENT_SENDS at once. Sends beyond the rate are throttled by SES, retried by the SDK,
 * then by SQS, so this is a budget, not a hard guarantee.
 */
export function mailerConcurrency(sesMaxSendRate: number): { maxConcurrency: number; sendsPerFunction: number } {
  const slots = Math.max(1, Math.floor(sesMaxSendRate / SENDS_PER_SECOND_PER_SLOT));
  const maxConcurrency = Math.min(1000, Math.max(2, Math.floor(slots / 10)));
  const sendsPerFunction = Math.min(10, Math.max(1, Math.floor(slots / maxConcurrency)));
  return { maxConcurrency, sendsPerFunction };
}

function check(condition: boolean, parameter: string, message: string): void {
  if (!condition) throw new Error(`invalid parameter ${parameter}: ${message}`);
}

function isWebUrl(url: string): boolean {
  return /^https:\/\/[^/\s]+/.test(url) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(url);
}

export class PasswordlessStack extends Stack {
  readonly userPool: cognito.UserPool;
  readonly mailQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly authStateTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PasswordlessProps) {
    super(scope, id, props);
    check(/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(props.senderDomain), 'senderDomain', `"${props.senderDomain}" is not a domain`);
    check(isWebUrl(props.loginUrl), 'loginUrl', 'must be an https URL');
    check(isWebUrl(props.signInUrl), 'signInUrl', 'must be an https URL');
    check(/^arn:aws[a-z-]*:sns:/.test(props.alarmTopicArn), 'alarmTopicArn', 'must be an SNS topic ARN');
    const ttlSeconds = props.codeTtl.toSeconds();
    check(ttlSeconds >= 180 && ttlSeconds <= 900 && ttlSeconds % 60 === 0, 'codeTtl',
      'Cognito sessions last 3 to 15 whole minutes');
    check(props.sesMaxSendRate >= 1, 'sesMaxSendRate', 'must be at least 1');
    // The functions refuse other values at start-up, which would fail every sign-in after deploy.
    check(Number.isInteger(props.codeLength) && props.codeLength >= 6 && props.codeLength <= 12, 'codeLength',
      `${props.codeLength} is not a whole number from 6 to 12 (CODE_LENGTH)`);
    check(Number.isInteger(props.maxAttempts) && props.maxAttempts >= 1 && props.maxAttempts <= 10, 'maxAttempts',
      `${props.maxAttempts} is not a whole number from 1 to 10 (MAX_ATTEMPTS)`);
    // The same ranges as triggers/src/auth_state.rs, which refuses to start outside them.
    const wholeIn = (value: number, low: number, high: number) => Number.isInteger(value) && value >= low && value <= high;
    check(wholeIn(props.resendAfterSeconds, 10, 3600), 'resendAfterSeconds',
      `${props.resendAfterSeconds} is not a whole number from 10 to 3600 (RESEND_AFTER_SECONDS)`);
    check(wholeIn(props.maxEmailsPerHour, 1, 60), 'maxEmailsPerHour',
      `${props.maxEmailsPerHour} is not a whole number from 1 to 60 (MAX_EMAILS_PER_HOUR)`);
    check(wholeIn(props.maxWrongAnswersPerCode, 1, 10), 'maxWrongAnswersPerCode',
      `${props.maxWrongAnswersPerCode} is not a whole number from 1 to 10 (MAX_WRONG_ANSWERS_PER_CODE)`);
    check(wholeIn(props.maxEmailsPerAddressPerHour, 1, 60), 'maxEmailsPerAddressPerHour',
      `${props.maxEmailsPerAddressPerHour} is not a whole number from 1 to 60 (MAX_EMAILS_PER_ADDRESS_PER_HOUR)`);
    check((EMAIL_HINTS as readonly string[]).includes(props.emailHint), 'emailHint',
      `"${props.emailHint}" is not one of ${EMAIL_HINTS.join(', ')} (EMAIL_HINT)`);
    check(wholeIn(props.guessBackoffBaseSeconds, 1, 3600), 'guessBackoffBaseSeconds',
      `${props.guessBackoffBaseSeconds} is not a whole number from 1 to 3600 (GUESS_BACKOFF_BASE_SECONDS)`);
    check(wholeIn(props.refreshTokenGraceSeconds, 0, 60), 'refreshTokenGraceSeconds',
      `${props.refreshTokenGraceSeconds} is not a whole number of seconds from 0 to 60 (Cognito's RetryGracePeriodSeconds)`);
    check(wholeIn(props.guessBackoffMaxSeconds, props.guessBackoffBaseSeconds, 86400), 'guessBackoffMaxSeconds',
      `${props.guessBackoffMaxSeconds} is not a whole number from guessBackoffBaseSeconds (${props.guessBackoffBaseSeconds}) to 86400 (GUESS_BACKOFF_MAX_SECONDS)`);
    // Not read by a function: the GuessingAlarm's threshold.
    check(wholeIn(props.deadCodesAlarmThreshold, 1, 1000), 'deadCodesAlarmThreshold',
      `${props.deadCodesAlarmThreshold} is not a whole number from 1 to 1000`);
    if (props.mailFrom !== undefined) {
      // The mailer may send only from the SES identity: any other domain is denied on every send.
      const address = /<([^<>\s]+)>\s*$/.exec(props.mailFrom)?.[1] ?? props.mailFrom.trim();
      const domain = address.split('@')[1]?.toLowerCase();
      check(address.split('@').length === 2 && domain === props.senderDomain.toLowerCase(), 'mailFrom',
        `"${props.mailFrom}" must be an address at senderDomain ${props.senderDomain}, the only identity the mailer may send from`);
    }
    for (const origin of props.apiAllowedOrigins) {
      check(/^https:\/\/[^/\s]+$/.test(origin) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(origin),
        'apiAllowedOrigins', `"${origin}" is not an origin such as https://app.example.com`);
    }

    if (props.passkeyRpId !== undefined) {
      const rpId = props.passkeyRpId.toLowerCase();
      check(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(rpId) && !/^[0-9.]+$/.test(rpId), 'passkeyRpId',
        `"${props.passkeyRpId}" is not a domain name (PASSKEY_RP_ID)`);
      check(props.passkeyOrigins.length > 0, 'passkeyOrigins', 'lists no origin: name the https origins of the pages that use passkeys');
      for (const origin of props.passkeyOrigins) {
        const host = /^https:\/\/([^/:\s]+)(:\d+)?$/.exec(origin)?.[1]?.toLowerCase();
        check(host !== undefined && (host === rpId || host.endsWith(`.${rpId}`)), 'passkeyOrigins',
          `"${origin}" is not an https origin on ${rpId} (PASSKEY_ORIGINS)`);
      }
      check(props.accountUrl !== undefined && isWebUrl(props.accountUrl), 'accountUrl',
        'must be the https URL of the page that lists passkeys (the passkey notices link to it)');
    } else {
      check(props.passkeyOrigins.length === 0, 'passkeyOrigins', 'needs passkeyRpId');
    }

    const mailFrom = props.mailFrom ?? `${props.appName} <no-reply@${props.senderDomain}>`;
    const fn = (name: string, binary: string, timeout: Duration, environment: Record<string, string>) =>
      this.rustFunction(name, binary, timeout, environment, props);

    // Mail: queue, dead-letter queue, alarm.
    this.deadLetterQueue = new sqs.Queue(this, 'MailDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the mail queue; messages here wait for an operator (alarmed).',
    });
    this.mailQueue = new sqs.Queue(this, 'MailQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Five receives 3 minutes apart take 15 minutes; an hour covers them with room to spare,
      // and a login link is dead after CODE_TTL anyway.
      retentionPeriod: Duration.hours(1),
      visibilityTimeout: Duration.seconds(MAILER_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    const alarm = new cloudwatch.Alarm(this, 'MailDeadLetterAlarm', {
      alarmDescription: 'Mail jobs are in the dead-letter queue: those emails will never arrive without action (docs/mailer.md).',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarmTopic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
    alarm.addAlarmAction(new cwActions.SnsAction(alarmTopic));

    // SES: the sending identity and a configuration set; the mailer may use only these.
    const configurationSet = new ses.ConfigurationSet(this, 'MailConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    const identity = new ses.EmailIdentity(this, 'SenderIdentity', {
      identity: ses.Identity.domain(props.senderDomain),
      configurationSet,
    });

    // Per-user auth state shared by every session (docs/threat-model.md): one small item per user,
    // keyed by a salted hash of the username, gone a day after its last code and email stop
    // mattering. Nothing in it is worth keeping when the stack goes.
    this.authStateTable = new dynamodb.Table(this, 'AuthStateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expires_at',
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Functions.
    const common = { MAIL_QUEUE_URL: this.mailQueue.queueUrl };
    // create and verify must agree on the limits: both read them (triggers/src/auth_state.rs).
    // The per-address budget is also post-authentication's, which sends the welcome email.
    const maxEmailsPerAddressPerHour = String(props.maxEmailsPerAddressPerHour);
    const authState = {
      AUTH_STATE_TABLE: this.authStateTable.tableName,
      RESEND_AFTER_SECONDS: String(props.resendAfterSeconds),
      MAX_EMAILS_PER_HOUR: String(props.maxEmailsPerHour),
      MAX_WRONG_ANSWERS_PER_CODE: String(props.maxWrongAnswersPerCode),
      MAX_EMAILS_PER_ADDRESS_PER_HOUR: maxEmailsPerAddressPerHour,
      GUESS_BACKOFF_BASE_SECONDS: String(props.guessBackoffBaseSeconds),
      GUESS_BACKOFF_MAX_SECONDS: String(props.guessBackoffMaxSeconds),
    };
    const preSignUp = fn('PreSignUp', 'pre-sign-up', TRIGGER_TIMEOUT, {});
    const define = fn('DefineAuthChallenge', 'define-auth-challenge', TRIGGER_TIMEOUT, {
      MAX_ATTEMPTS: String(props.maxAttempts),
    });
    const create = fn('CreateAuthChallenge', 'create-auth-challenge', TRIGGER_TIMEOUT, {
      ...common,
      LOGIN_URL: props.loginUrl,
      CODE_LENGTH: String(props.codeLength),
      CODE_TTL_SECONDS: String(ttlSeconds),
      EMAIL_HINT: props.emailHint,
      ...authState,
    });
    const verify = fn('VerifyAuthChallenge', 'verify-auth-challenge', TRIGGER_TIMEOUT, authState);
    // After the first emailed sign-in (which proves the address): sets email_verified and sends
    // the welcome email, within the per-address budget. Nothing is sent at sign-up any more.
    const postAuthentication = fn('PostAuthentication', 'post-authentication', TRIGGER_TIMEOUT, {
      ...common,
      SIGN_IN_URL: props.signInUrl,
      AUTH_STATE_TABLE: this.authStateTable.tableName,
      MAX_EMAILS_PER_ADDRESS_PER_HOUR: maxEmailsPerAddressPerHour,
    });
    const { maxConcurrency, sendsPerFunction } = mailerConcurrency(props.sesMaxSendRate);
    const mailer = fn('Mailer', 'mailer', MAILER_TIMEOUT, {
      // A transient failure is made visible again within seconds on its own queue; a permanent
      // one is moved to the dead-letter queue at once (docs/mailer.md).
      MAIL_QUEUE_URL: this.mailQueue.queueUrl,
      MAIL_DLQ_URL: this.deadLetterQueue.queueUrl,
      MAIL_FROM: mailFrom,
      APP_NAME: props.appName,
      SES_CONFIGURATION_SET: configurationSet.configurationSetName,
      MAX_CONCURRENT_SENDS: String(sendsPerFunction),
    });

    // Least privilege: producers may only send to the mail queue; the mailer may only send email
    // from the identity with the configuration set (and consume its queue, via the mapping).
    this.mailQueue.grant(create, 'sqs:SendMessage');
    this.mailQueue.grant(postAuthentication, 'sqs:SendMessage');
    // Each reads its items and writes them back conditionally (triggers/src/auth_state/store.rs):
    // create and verify the user's state, post-authentication the address's email budget.
    for (const f of [create, verify, postAuthentication]) this.authStateTable.grant(f, 'dynamodb:GetItem', 'dynamodb:PutItem');
    this.deadLetterQueue.grant(mailer, 'sqs:SendMessage');
    mailer.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ses:SendEmail'],
      resources: [
        this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity.emailIdentityName }),
        this.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: configurationSet.configurationSetName }),
      ],
    }));
    mailer.addEventSource(new SqsEventSource(this.mailQueue, {
      batchSize: 10,
      reportBatchItemFailures: true,
      maxConcurrency,
    }));

    // Cognito: username + required email, the standard locale attribute, our triggers.
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: true,
      signInAliases: { username: true },
      signInCaseSensitive: false,
      standardAttributes: {
        email: { required: true, mutable: true },
        locale: { required: false, mutable: true },
      },
      // Pre-sign-up confirms; the first emailed sign-in proves the address, and post-authentication
      // then marks it verified (docs/decisions.md).
      // Listing email here sends nothing at sign-up (pre-sign-up confirms), but Cognito requires
      // it for keepOriginal: a changed address takes effect only once its owner verifies it, so
      // a stolen access token cannot move the account to the thief's mailbox.
      autoVerify: { email: true },
      keepOriginal: { email: true },
      accountRecovery: cognito.AccountRecovery.NONE,
      // Users never type this password (the client sets a random one at sign-up), but a strong
      // policy keeps a leaked client from setting a weak one.
      passwordPolicy: { minLength: 16, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lambdaTriggers: {
        preSignUp,
        defineAuthChallenge: define,
        createAuthChallenge: create,
        verifyAuthChallengeResponse: verify,
        postAuthentication,
      },
    });
    // post-authentication may set email_verified on this pool's users, and nothing else. In its own
    // policy, not the role's default one: the function depends on its default policy and the pool
    // on the function (the trigger), so the pool's ARN there would be a dependency cycle.
    const poolPolicy = new iam.Policy(this, 'PostAuthenticationPoolPolicy', {
      statements: [new iam.PolicyStatement({
        actions: ['cognito-idp:AdminUpdateUserAttributes'],
        resources: [this.userPool.userPoolArn],
      })],
    });
    poolPolicy.attachToRole(postAuthentication.role!);
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason: 'Sign-in itself is a possession factor: a one-time code sent to the verified mailbox; there is no password to protect with MFA.',
      },
      {
        id: 'AwsSolutions-COG3',
        reason: 'Threat protection (advanced security) needs the Plus feature plan; operators can enable it, it is not required for this flow.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason: 'The Plus feature plan (threat protection) costs extra per user; the flow does not need it. Enable it with featurePlan if wanted.',
      },
    );
    const client = this.userPool.addClient('AppClient', {
      authFlows: { custom: true },
      disableOAuth: true,
      generateSecret: false,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      authSessionValidity: props.codeTtl,
      accessTokenValidity: props.accessTokenValidity,
      idTokenValidity: props.idTokenValidity,
      refreshTokenValidity: props.refreshTokenValidity,
      // Rotation: a stolen refresh token stops working at its owner's next refresh (after the
      // grace period). Cognito then allows only GetTokensFromRefreshToken, which the auth API
      // uses; the CDK leaves ALLOW_REFRESH_TOKEN_AUTH out of the client's flows.
      refreshTokenRotationGracePeriod: Duration.seconds(props.refreshTokenGraceSeconds),
      // Sign-up writes these three; nothing else is the user's to change with a token.
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, fullname: true, locale: true }),
    });

    // The auth API (signup / login / verify-login / me / refresh / logout) behind a Function URL.
    // Cognito's sign-up and sign-in operations are unauthenticated, so no IAM permission reaches
    // the pool: its role holds its own logs and the auth state table, where logout records the
    // signed-out token family so /me refuses that family's ID tokens afterwards.
    const authApi = fn('AuthApi', 'auth-api', AUTH_API_TIMEOUT, {
      COGNITO_USER_POOL_ID: this.userPool.userPoolId,
      COGNITO_CLIENT_ID: client.userPoolClientId,
      ALLOWED_ORIGINS: props.apiAllowedOrigins.join(','),
      MAX_ATTEMPTS: String(props.maxAttempts),
      CODE_TTL_SECONDS: String(ttlSeconds),
      REFRESH_TOKEN_DAYS: String(props.refreshTokenValidity.toDays()),
      AUTH_STATE_TABLE: this.authStateTable.tableName,
      ...(props.cookieDomain ? { COOKIE_DOMAIN: props.cookieDomain } : {}),
      // Passkeys: verified by the API, their records and ceremonies in the auth state table, and
      // a notice to the account's address through the mail queue on every add and remove.
      ...(props.passkeyRpId ? {
        PASSKEY_RP_ID: props.passkeyRpId.toLowerCase(),
        PASSKEY_ORIGINS: props.passkeyOrigins.join(','),
        ACCOUNT_URL: props.accountUrl!,
        MAIL_QUEUE_URL: this.mailQueue.queueUrl,
        APP_NAME: props.appName,
        // The notices count against the same per-mailbox budget as every email.
        MAX_EMAILS_PER_ADDRESS_PER_HOUR: maxEmailsPerAddressPerHour,
      } : {}),
    });
    this.authStateTable.grant(authApi, 'dynamodb:GetItem', 'dynamodb:PutItem');
    if (props.passkeyRpId) this.mailQueue.grant(authApi, 'sqs:SendMessage');
    const authApiUrl = authApi.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      cors: props.apiAllowedOrigins.length > 0 ? {
        allowedOrigins: props.apiAllowedOrigins,
        allowCredentials: true,
        // PATCH and DELETE: renaming and removing passkeys.
        allowedMethods: [lambda.HttpMethod.GET, lambda.HttpMethod.POST,
          ...(props.passkeyRpId ? [lambda.HttpMethod.PATCH, lambda.HttpMethod.DELETE] : [])],
        allowedHeaders: ['content-type', 'x-sign-in-session'],
        maxAge: Duration.hours(1),
      } : undefined,
    });

    // Delivery feedback (issue 17): SES's events → EventBridge → the feedback queue → mail-feedback,
    // which writes each email's status and each mailbox's suppression to the auth-state table.
    const mailFeedback = fn('MailFeedback', 'mail-feedback', FEEDBACK_TIMEOUT, {
      AUTH_STATE_TABLE: this.authStateTable.tableName,
      COGNITO_USER_POOL_ID: this.userPool.userPoolId,
    });
    const feedback = new DeliveryFeedback(this, 'DeliveryFeedback', {
      configurationSet, table: this.authStateTable, handler: mailFeedback, alarmTopic, metricsNamespace: METRICS_NAMESPACE,
    });
    new CfnOutput(this, 'FeedbackQueueUrl', { value: feedback.queue.queueUrl });

    this.operations(alarmTopic, mailer, [preSignUp, define, create, verify, postAuthentication, authApi, mailFeedback], props,
      feedback.widgets());

    new CfnOutput(this, 'AuthApiUrl', { value: authApiUrl.url });
    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
    new CfnOutput(this, 'MailQueueUrl', { value: this.mailQueue.queueUrl });
    new CfnOutput(this, 'MailDeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
  }

  /**
   * Alarms on what loses or delays email or points at guessing, and one dashboard for the whole
   * pipeline. The custom metrics come from the functions' Embedded Metric Format lines (namespace
   * `Passwordless`, each also without dimensions, which is what the alarms watch).
   */
  private operations(topic: sns.ITopic, mailer: lambda.Function, others: lambda.Function[], props: PasswordlessProps,
    feedbackRow: cloudwatch.IWidget[]): void {
    const custom = (metricName: string, statistic = 'Sum', period = Duration.minutes(5)) => new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE, metricName, statistic, period,
    });
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new cwActions.SnsAction(topic));
      return a;
    };
    alarm('MailerErrorsAlarm', 'The mailer function failed (crashed or timed out): its batch comes back after the visibility timeout.',
      mailer.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 1);
    alarm('MailQueueAgeAlarm',
      `The oldest mail job has waited ${OLDEST_JOB_ALARM.toSeconds()} s: sign-in codes expire before their email arrives.`,
      this.mailQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      OLDEST_JOB_ALARM.toSeconds());
    alarm('StaleDropsAlarm', 'Login emails were dropped because their code expired before they could be sent (docs/mailer.md).',
      custom('EmailsDroppedStale'), 5);
    alarm('SesThrottlingAlarm', 'SES failed sends transiently (throttling or errors past the SDK retries): check the send quota.',
      custom('EmailsFailedTransient'), 10);
    const throttles = new cloudwatch.MathExpression({
      expression: [mailer, ...others].map((_, i) => `t${i}`).join(' + '),
      usingMetrics: Object.fromEntries([mailer, ...others].map((f, i) =>
        [`t${i}`, f.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' })])),
      period: Duration.minutes(5),
      label: 'Lambda throttles',
    });
    alarm('FunctionThrottlesAlarm', 'A function of the pipeline was throttled (account concurrency): sign-ins or emails are failing.',
      throttles, 1);
    // verify reports, with each code killed by wrong answers, how many died in a row for that
    // account since its last successful sign-in: the day's maximum is the most-guessed account.
    alarm('GuessingAlarm',
      `One account is being guessed at: ${props.deadCodesAlarmThreshold} or more of its codes in a row died of wrong answers `
      + 'since its last successful sign-in (docs/threat-model.md).',
      custom('DeadCodesInARow', 'Maximum', Duration.days(1)), props.deadCodesAlarmThreshold);

    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });
    new cloudwatch.Dashboard(this, 'PipelineDashboard', {
      dashboardName: `${this.stackName}-pipeline`,
      widgets: [
        [
          graph('Sign-ins', ['SignInsStarted', 'SignInsSucceeded', 'SignInsFailed', 'SignInsRefused', 'CodesRejected']
            .map((m) => custom(m))),
          graph('Emails', ['EmailsSent', 'EmailsFailedTransient', 'EmailsFailedPermanent', 'EmailsDroppedStale', 'EmailsDeferred']
            .map((m) => custom(m))),
        ],
        [
          graph('Refusals', ['SignInsRefused', 'GuessBackoffRefusals', 'AddressBudgetRefusals'].map((m) => custom(m))),
          graph('Guessing', [custom('CodesKilled')], [custom('DeadCodesInARow', 'Maximum')]),
        ],
        [
          graph('SES send latency (ms)', [custom('SesSendLatency', 'p50'), custom('SesSendLatency', 'p99')]),
          graph('Mail queue', [
            this.mailQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
            this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
          ], [this.mailQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1) })]),
        ],
        [
          graph('Mailer', [mailer.metricErrors(), mailer.metricThrottles()], [mailer.metricDuration({ statistic: 'p99' })]),
          graph('Functions: errors', others.map((f) => f.metricErrors())),
        ],
        feedbackRow,
      ],
    });
  }

  /**
   * A Rust binary as a Lambda function: provided.al2023 on arm64, its own log group with a
   * retention, and its own role that may write only to that log group (no
   * AWSLambdaBasicExecutionRole, whose logs permissions cover every log group).
   */
  private rustFunction(id: string, binary: string, timeout: Duration, environment: Record<string, string>,
    props: PasswordlessProps): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${binary}: writes its own logs, nothing else unless granted below`,
    });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5',
      reason: 'Lambda names each log stream itself; the wildcard is only the stream part of this function\'s own log group ARN.',
    });
    return new lambda.Function(this, id, {
      description: `${binary} (Rust, provided.al2023 arm64)`,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(path.join(props.assetsDir, binary, 'bootstrap.zip')),
      memorySize: 128,
      timeout,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment,
    });
  }
}
