// Tests on the synthesised template: triggers, client, queue, auth state table, event source mapping, least
// privilege, runtime settings, alarms, and cdk-nag's AwsSolutions checks. Offline: the Lambda packages
// are stand-in zips here (scripts/test.sh synthesises once more with the real arm64 builds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parametersFromContext } from '../lib/parameters.ts';
import { MAILER_TIMEOUT, MAX_RECEIVE_COUNT, PasswordlessStack, mailerConcurrency } from '../lib/passwordless-stack.ts';
import { FEEDBACK_DETAIL_TYPES } from '../lib/delivery-feedback.ts';

const BINARIES = ['define-auth-challenge', 'create-auth-challenge', 'verify-auth-challenge', 'pre-sign-up',
  'post-authentication', 'mailer', 'mail-feedback', 'auth-api'];

function standInAssets(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-assets-'));
  for (const binary of BINARIES) {
    fs.mkdirSync(path.join(dir, binary));
    fs.writeFileSync(path.join(dir, binary, 'bootstrap.zip'), 'stand-in');
  }
  return dir;
}

const CONTEXT: Record<string, string> = {
  senderDomain: 'mail.example.com',
  loginUrl: 'https://app.example.com/verify-login',
  signInUrl: 'https://app.example.com/login',
  alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alerts',
  appName: 'Acme',
};

function synth(context: Record<string, string> = {}) {
  const app = new App();
  const all: Record<string, string> = { ...CONTEXT, assetsDir: standInAssets(), ...context };
  const stack = new PasswordlessStack(app, 'Test', {
    ...parametersFromContext((k) => all[k]),
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

const { app, stack, template } = synth();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const functionId = (binary: string) => ofType('AWS::Lambda::Function')
  .find(([, r]) => String(r.Properties.Description).startsWith(`${binary} `))![0];

test('every trigger is attached to the user pool, and only Cognito may invoke it', () => {
  const pool = ofType('AWS::Cognito::UserPool')[0][1].Properties;
  const config = pool.LambdaConfig;
  const expected: Record<string, string> = {
    PreSignUp: 'pre-sign-up',
    DefineAuthChallenge: 'define-auth-challenge',
    CreateAuthChallenge: 'create-auth-challenge',
    VerifyAuthChallengeResponse: 'verify-auth-challenge',
    PostAuthentication: 'post-authentication',
  };
  assert.deepEqual(Object.keys(config).sort(), Object.keys(expected).sort());
  for (const [slot, binary] of Object.entries(expected)) {
    assert.deepEqual(config[slot], { 'Fn::GetAtt': [functionId(binary), 'Arn'] }, slot);
  }
  assert.equal(config.PostConfirmation, undefined, 'the welcome email waits for the first sign-in');
  const permissions = ofType('AWS::Lambda::Permission').map(([, r]) => r.Properties);
  assert.equal(permissions.filter((p) => p.Principal === 'cognito-idp.amazonaws.com').length, 5);
  for (const p of permissions.filter((p) => p.Principal === 'cognito-idp.amazonaws.com')) {
    assert.equal(p.Action, 'lambda:InvokeFunction');
    assert.ok(p.SourceArn, 'scoped to the user pool');
  }
  assert.deepEqual(pool.UsernameAttributes, undefined, 'sign-in by username');
  const schema = pool.Schema as Array<{ Name: string; Required: boolean }>;
  assert.deepEqual(schema.find((a) => a.Name === 'email')?.Required, true);
  assert.ok(schema.find((a) => a.Name === 'locale'));
});

test('the app client allows only custom auth and rotating refresh, without OAuth, hiding user existence', () => {
  template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    // Rotation on: refresh goes through GetTokensFromRefreshToken only, so REFRESH_TOKEN_AUTH is out.
    ExplicitAuthFlows: ['ALLOW_CUSTOM_AUTH'],
    RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 10 },
    WriteAttributes: Match.arrayEquals(['email', 'locale', 'name']),
    PreventUserExistenceErrors: 'ENABLED',
    AllowedOAuthFlowsUserPoolClient: false,
    GenerateSecret: false,
    AuthSessionValidity: 3,
    AccessTokenValidity: 60,
    IdTokenValidity: 60,
    RefreshTokenValidity: 43200,
  });
  const other = synth({ codeTtlSeconds: '300', accessTokenValidityMinutes: '15', refreshTokenValidityDays: '7' }).template;
  other.hasResourceProperties('AWS::Cognito::UserPoolClient', { AuthSessionValidity: 5, AccessTokenValidity: 15, RefreshTokenValidity: 10080 });
  synth({ refreshTokenGraceSeconds: '0' }).template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 0 },
  });
  for (const bad of ['61', '-1', '2.5']) {
    assert.throws(() => synth({ refreshTokenGraceSeconds: bad }), /refreshTokenGraceSeconds/);
  }
  other.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ CODE_TTL_SECONDS: '300' }) } });
});

test('the mail queue is encrypted, TLS-only, with a dead-letter queue and room for the mailer', () => {
  template.hasResourceProperties('AWS::SQS::Queue', {
    SqsManagedSseEnabled: true,
    MessageRetentionPeriod: 3600,
    VisibilityTimeout: MAILER_TIMEOUT.toSeconds() * 6,
    RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: MAX_RECEIVE_COUNT },
  });
  template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  // The mail queue and the feedback queue, each with its dead-letter queue: all TLS-only.
  assert.equal(ofType('AWS::SQS::Queue').length, 4);
  const policies = ofType('AWS::SQS::QueuePolicy').map(([, r]) => r.Properties.PolicyDocument.Statement).flat();
  assert.equal(policies.filter((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false').length, 4);
});

test('the mailer consumes the queue with partial batch responses and bounded concurrency', () => {
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    FunctionName: { Ref: functionId('mailer') },
    BatchSize: 10,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    ScalingConfig: { MaximumConcurrency: 2 },
  });
  assert.deepEqual(mailerConcurrency(14), { maxConcurrency: 2, sendsPerFunction: 1 });
  assert.deepEqual(mailerConcurrency(200), { maxConcurrency: 2, sendsPerFunction: 10 });
  assert.deepEqual(mailerConcurrency(1000), { maxConcurrency: 10, sendsPerFunction: 10 });
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ MAX_CONCURRENT_SENDS: '1', MAIL_FROM: 'Acme <no-reply@mail.example.com>' }) },
  });
});

test('a non-empty dead-letter queue alarms the given SNS topic', () => {
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Namespace: 'AWS/SQS',
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    AlarmActions: [CONTEXT.alarmTopicArn],
  });
});

test('every function is Rust on provided.al2023 arm64 with JSON logs, a log level and a retention', () => {
  const functions = ofType('AWS::Lambda::Function');
  assert.equal(functions.length, BINARIES.length);
  for (const [id, { Properties: p }] of functions) {
    assert.equal(p.Runtime, 'provided.al2023', id);
    assert.deepEqual(p.Architectures, ['arm64'], id);
    assert.equal(p.Handler, 'bootstrap', id);
    assert.equal(p.MemorySize, 128, id);
    assert.equal(p.LoggingConfig.LogFormat, 'JSON', id);
    assert.equal(p.LoggingConfig.ApplicationLogLevel, 'INFO', id);
    assert.ok(p.LoggingConfig.LogGroup, `${id} logs to its own group`);
    const trigger = !['Mailer', 'MailFeedback', 'AuthApi'].some((name) => id.startsWith(name));
    if (trigger) assert.ok(p.Timeout <= 5, `${id}: Cognito waits 5 s`);
  }
  for (const [id, { Properties: p }] of ofType('AWS::Logs::LogGroup')) {
    assert.equal(p.RetentionInDays, 30, id);
  }
});

test('no IAM statement allows a wildcard action or resource, and no managed policy is attached', () => {
  const statements: Array<{ where: string; s: any }> = [];
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Policy') {
      for (const s of r.Properties.PolicyDocument.Statement) statements.push({ where: id, s });
    }
    if (r.Type === 'AWS::IAM::Role') {
      assert.equal(r.Properties.ManagedPolicyArns, undefined, `${id} has a managed policy`);
      for (const policy of r.Properties.Policies ?? []) {
        for (const s of policy.PolicyDocument.Statement) statements.push({ where: id, s });
      }
    }
    if (r.Type === 'AWS::SQS::QueuePolicy') {
      for (const s of r.Properties.PolicyDocument.Statement) statements.push({ where: id, s });
    }
  }
  assert.ok(statements.length >= 8);
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]);
  for (const { where, s } of statements) {
    // enforceSSL's Deny names sqs:* for every principal: a Deny only ever takes rights away.
    if (s.Effect === 'Deny') continue;
    for (const action of list(s.Action)) {
      assert.ok(typeof action === 'string' && !action.includes('*'), `${where}: action ${JSON.stringify(action)}`);
    }
    for (const resource of list(s.Resource)) {
      assert.notEqual(resource, '*', `${where}: resource *`);
      assert.ok(!(typeof resource === 'string' && resource.endsWith(':*') && !resource.includes('log-group')),
        `${where}: ${resource}`);
    }
  }
});

test('the create-challenge function may only send to the mail queue; the mailer only send from its identity', () => {
  const policyOf = (binary: string) => {
    const role = resources[functionId(binary)].Properties.Role['Fn::GetAtt'][0];
    return ofType('AWS::IAM::Policy').filter(([, r]) => r.Properties.Roles.some((x: any) => x.Ref === role))
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement);
  };
  const mailQueueId = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.RedrivePolicy)![0];
  const actionsOf = (s: any): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const beyondLogs = (s: any) => !actionsOf(s).every((a) => a.startsWith('logs:'));
  const tableId = ofType('AWS::DynamoDB::Table')[0][0];
  const authState = { Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [tableId, 'Arn'] }] };
  const create = policyOf('create-auth-challenge').filter(beyondLogs);
  assert.deepEqual(create, [
    { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [mailQueueId, 'Arn'] } },
    authState,
  ]);
  assert.deepEqual(policyOf('verify-auth-challenge').filter(beyondLogs), [authState], 'verify only reads and writes the auth state');
  const deadLetterQueueId = ofType('AWS::SQS::Queue').find(([, r]) => !r.Properties.RedrivePolicy)![0];
  const mailerStatements = policyOf('mailer');
  assert.deepEqual(mailerStatements.filter((s: any) => s.Action === 'sqs:SendMessage'),
    [{ Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] } }],
    'the mailer may send only to the dead-letter queue');
  const consume = mailerStatements.find((s: any) => actionsOf(s).includes('sqs:ChangeMessageVisibility'));
  assert.deepEqual(consume.Resource, { 'Fn::GetAtt': [mailQueueId, 'Arn'] }, 'visibility changes only on the mail queue');
  const mailerEnv = resources[functionId('mailer')].Properties.Environment.Variables;
  assert.deepEqual(mailerEnv.MAIL_DLQ_URL, { Ref: deadLetterQueueId });
  assert.deepEqual(mailerEnv.MAIL_QUEUE_URL, { Ref: mailQueueId });
  const mailer = mailerStatements.find((s: any) => s.Action === 'ses:SendEmail');
  assert.equal(mailer.Resource.length, 2);
  assert.match(JSON.stringify(mailer.Resource[0]), /:identity\//);
  assert.match(JSON.stringify(mailer.Resource[1]), /:configuration-set\//);
  for (const binary of ['define-auth-challenge', 'pre-sign-up']) {
    const actions = policyOf(binary).flatMap(actionsOf);
    assert.deepEqual(actions.sort(), ['logs:CreateLogStream', 'logs:PutLogEvents'], binary);
  }
  // The auth API records signed-out token families in the table, and may do nothing else there.
  assert.deepEqual(policyOf('auth-api').filter(beyondLogs), [authState], 'the auth API only reads and writes the auth state');
  const poolId = ofType('AWS::Cognito::UserPool')[0][0];
  assert.deepEqual(policyOf('post-authentication').filter(beyondLogs), [
    { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [mailQueueId, 'Arn'] } },
    authState,
    { Action: 'cognito-idp:AdminUpdateUserAttributes', Effect: 'Allow', Resource: { 'Fn::GetAtt': [poolId, 'Arn'] } },
  ], 'post-authentication: the welcome email, the address budget, and email_verified on this pool');
});

test('only post-authentication may update users, on this pool only, from a policy apart from its default one', () => {
  const poolId = ofType('AWS::Cognito::UserPool')[0][0];
  const roleId = resources[functionId('post-authentication')].Properties.Role['Fn::GetAtt'][0];
  const hits: Array<{ id: string; type: string; s: any }> = [];
  for (const [id, r] of Object.entries(resources)) {
    const documents = r.Type === 'AWS::IAM::Policy' ? [r.Properties.PolicyDocument]
      : r.Type === 'AWS::IAM::Role' ? (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument) : [];
    for (const doc of documents) {
      for (const s of doc.Statement) {
        if (JSON.stringify(s.Action).includes('cognito-idp:')) hits.push({ id, type: r.Type, s });
      }
    }
  }
  assert.equal(hits.length, 1, `cognito-idp actions in ${hits.map((h) => h.id).join(', ')}`);
  const [{ id, type, s }] = hits;
  assert.equal(type, 'AWS::IAM::Policy');
  assert.ok(id.startsWith('PostAuthenticationPoolPolicy'), id);
  assert.deepEqual(s, { Action: 'cognito-idp:AdminUpdateUserAttributes', Effect: 'Allow', Resource: { 'Fn::GetAtt': [poolId, 'Arn'] } });
  assert.ok(!JSON.stringify(s.Resource).includes('*'), 'no wildcard in the resource');
  assert.deepEqual(resources[id].Properties.Roles, [{ Ref: roleId }]);
  // The function must not wait for this policy: the policy waits for the pool, the pool for the function.
  // (Template.fromStack refuses a template with a cycle, so the statement in the default policy fails every test.)
  const dependsOn = (resources[functionId('post-authentication')] as any).DependsOn ?? [];
  assert.ok(!dependsOn.includes(id), 'the post-authentication function does not depend on the pool policy');
});

test('the auth state table is on demand, encrypted, recoverable, expires items, and feeds create and verify the same limits', () => {
  const tables = ofType('AWS::DynamoDB::Table');
  assert.equal(tables.length, 1);
  const [tableId, table] = tables[0];
  assert.deepEqual(table.Properties.KeySchema, [{ AttributeName: 'pk', KeyType: 'HASH' }]);
  assert.deepEqual(table.Properties.AttributeDefinitions, [{ AttributeName: 'pk', AttributeType: 'S' }]);
  assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST');
  assert.deepEqual(table.Properties.TimeToLiveSpecification, { AttributeName: 'expires_at', Enabled: true });
  assert.deepEqual(table.Properties.SSESpecification, { SSEEnabled: true });
  assert.deepEqual(table.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
  assert.equal(table.Properties.GlobalSecondaryIndexes, undefined, 'no index: grants name the table ARN only');
  const expected = {
    AUTH_STATE_TABLE: { Ref: tableId }, RESEND_AFTER_SECONDS: '60', MAX_EMAILS_PER_HOUR: '5', MAX_WRONG_ANSWERS_PER_CODE: '5',
    MAX_EMAILS_PER_ADDRESS_PER_HOUR: '5', GUESS_BACKOFF_BASE_SECONDS: '60', GUESS_BACKOFF_MAX_SECONDS: '3600',
  };
  for (const binary of ['create-auth-challenge', 'verify-auth-challenge']) {
    const env = resources[functionId(binary)].Properties.Environment.Variables;
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, env[k]])), expected, binary);
  }
  const createEnv = resources[functionId('create-auth-challenge')].Properties.Environment.Variables;
  assert.equal(createEnv.CODE_LENGTH, '8');
  assert.equal(createEnv.EMAIL_HINT, 'none');
  assert.equal(resources[functionId('verify-auth-challenge')].Properties.Environment.Variables.EMAIL_HINT, undefined);
  assert.deepEqual(resources[functionId('auth-api')].Properties.Environment.Variables.AUTH_STATE_TABLE, { Ref: tableId }, 'auth-api: signed-out token families');
  for (const binary of ['define-auth-challenge', 'pre-sign-up', 'mailer']) {
    const env = resources[functionId(binary)].Properties.Environment?.Variables ?? {};
    assert.equal(env.AUTH_STATE_TABLE, undefined, `${binary} has no business with the auth state`);
  }
  const tuned = synth({
    resendAfterSeconds: '120', maxEmailsPerHour: '3', maxWrongAnswersPerCode: '2', maxEmailsPerAddressPerHour: '4',
    guessBackoffBaseSeconds: '30', guessBackoffMaxSeconds: '600', emailHint: 'masked', codeLength: '10',
  }).template;
  tuned.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('^verify-auth-challenge '),
    Environment: { Variables: Match.objectLike({
      RESEND_AFTER_SECONDS: '120', MAX_EMAILS_PER_HOUR: '3', MAX_WRONG_ANSWERS_PER_CODE: '2', MAX_EMAILS_PER_ADDRESS_PER_HOUR: '4',
      GUESS_BACKOFF_BASE_SECONDS: '30', GUESS_BACKOFF_MAX_SECONDS: '600',
    }) },
  });
  tuned.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('^create-auth-challenge '),
    Environment: { Variables: Match.objectLike({ EMAIL_HINT: 'masked', CODE_LENGTH: '10', MAX_EMAILS_PER_ADDRESS_PER_HOUR: '4' }) },
  });
  tuned.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('^post-authentication '),
    Environment: { Variables: Match.objectLike({ MAX_EMAILS_PER_ADDRESS_PER_HOUR: '4' }) },
  });
});

test('post-authentication gets the mail queue, the sign-in page and the per-address budget', () => {
  const tableId = ofType('AWS::DynamoDB::Table')[0][0];
  const mailQueueId = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.RedrivePolicy)![0];
  const fn = resources[functionId('post-authentication')];
  assert.ok(functionId('post-authentication').startsWith('PostAuthentication'));
  assert.deepEqual(fn.Properties.Environment.Variables, {
    MAIL_QUEUE_URL: { Ref: mailQueueId },
    SIGN_IN_URL: CONTEXT.signInUrl,
    AUTH_STATE_TABLE: { Ref: tableId },
    MAX_EMAILS_PER_ADDRESS_PER_HOUR: '5',
  });
  assert.ok(fn.Properties.Timeout <= 5, 'Cognito waits 5 s');
  assert.equal(ofType('AWS::Lambda::Function').filter(([, r]) => String(r.Properties.Description).startsWith('post-confirmation ')).length, 0);
});

test('a token cannot take the account: the client writes only email, name and locale, and a new email needs verifying', () => {
  const client = ofType('AWS::Cognito::UserPoolClient')[0][1].Properties;
  assert.deepEqual([...client.WriteAttributes].sort(), ['email', 'locale', 'name']);
  const pool = ofType('AWS::Cognito::UserPool')[0][1].Properties;
  assert.deepEqual(pool.UserAttributeUpdateSettings, { AttributesRequireVerificationBeforeUpdate: ['email'] });
  // Cognito accepts keep-original only for an auto-verified attribute.
  assert.deepEqual(pool.AutoVerifiedAttributes, ['email']);
});

test('the auth API runs behind a Function URL, configured for the pool, its client and the allowed origins', () => {
  const { template: withOrigins, stack: s2 } = synth({ apiAllowedOrigins: 'https://app.example.com, http://localhost:4000' });
  const resources2 = withOrigins.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const api = Object.entries(resources2).find(([, r]) => r.Type === 'AWS::Lambda::Function'
    && String(r.Properties.Description).startsWith('auth-api '))!;
  const env = api[1].Properties.Environment.Variables;
  const poolId = Object.entries(resources2).find(([, r]) => r.Type === 'AWS::Cognito::UserPool')![0];
  const clientId = Object.entries(resources2).find(([, r]) => r.Type === 'AWS::Cognito::UserPoolClient')![0];
  assert.deepEqual(env.COGNITO_USER_POOL_ID, { Ref: poolId });
  assert.deepEqual(env.COGNITO_CLIENT_ID, { Ref: clientId });
  assert.equal(env.ALLOWED_ORIGINS, 'https://app.example.com,http://localhost:4000');
  assert.equal(env.MAX_ATTEMPTS, '3');
  assert.equal(env.CODE_TTL_SECONDS, '180');
  assert.equal(api[1].Properties.Timeout, 25);
  withOrigins.hasResourceProperties('AWS::Lambda::Url', {
    AuthType: 'NONE',
    TargetFunctionArn: { 'Fn::GetAtt': [api[0], 'Arn'] },
    Cors: Match.objectLike({ AllowCredentials: true, AllowOrigins: ['https://app.example.com', 'http://localhost:4000'] }),
  });
  assert.ok(s2);
  assert.throws(() => synth({ apiAllowedOrigins: 'app.example.com' }), /apiAllowedOrigins/);
  template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', Cors: Match.absent() });
});

test('alarms watch what loses or delays email, all to the SNS topic, and one dashboard shows the pipeline', () => {
  const alarms = ofType('AWS::CloudWatch::Alarm').map(([id, r]) => ({ id, p: r.Properties }));
  const byId = (prefix: string) => alarms.find((a) => a.id.startsWith(prefix))!.p;
  for (const prefix of ['MailDeadLetterAlarm', 'MailerErrorsAlarm', 'MailQueueAgeAlarm', 'StaleDropsAlarm', 'SesThrottlingAlarm',
    'FunctionThrottlesAlarm', 'GuessingAlarm']) {
    const a = byId(prefix);
    assert.ok(a, prefix);
    assert.deepEqual(a.AlarmActions, ['arn:aws:sns:eu-west-1:123456789012:ops-alerts'], prefix);
    assert.equal(a.TreatMissingData, 'notBreaching', prefix);
  }
  const age = byId('MailQueueAgeAlarm');
  assert.equal(age.MetricName, 'ApproximateAgeOfOldestMessage');
  assert.equal(age.Threshold, 60);
  const mailQueueName = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.RedrivePolicy)![0];
  assert.deepEqual(age.Dimensions[0].Value, { 'Fn::GetAtt': [mailQueueName, 'QueueName'] });
  assert.deepEqual([byId('StaleDropsAlarm').Namespace, byId('StaleDropsAlarm').MetricName], ['Passwordless', 'EmailsDroppedStale']);
  assert.deepEqual(byId('StaleDropsAlarm').Dimensions, undefined, 'the total across templates and languages');
  assert.equal(byId('SesThrottlingAlarm').MetricName, 'EmailsFailedTransient');
  assert.deepEqual(byId('MailerErrorsAlarm').Dimensions, [{ Name: 'FunctionName', Value: { Ref: functionId('mailer') } }]);
  const throttles = byId('FunctionThrottlesAlarm').Metrics as Array<{ MetricStat?: any }>;
  assert.equal(throttles.filter((m) => m.MetricStat?.Metric.MetricName === 'Throttles').length, BINARIES.length);
  const guessing = byId('GuessingAlarm');
  assert.deepEqual([guessing.Namespace, guessing.MetricName, guessing.Statistic, guessing.Period, guessing.Threshold],
    ['Passwordless', 'DeadCodesInARow', 'Maximum', 86400, 10]);
  assert.equal(guessing.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
  assert.equal(guessing.EvaluationPeriods, 1);
  assert.equal(guessing.Dimensions, undefined, 'the most-guessed account across the pool');
  assert.match(guessing.AlarmDescription, /being guessed at.*docs\/threat-model\.md/);
  const tuned = synth({ deadCodesAlarmThreshold: '3' }).template;
  tuned.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DeadCodesInARow', Threshold: 3 });

  const dashboards = ofType('AWS::CloudWatch::Dashboard');
  assert.equal(dashboards.length, 1);
  const body = JSON.stringify(dashboards[0][1].Properties.DashboardBody);
  for (const metric of ['SignInsStarted', 'SignInsSucceeded', 'SignInsFailed', 'SignInsRefused', 'CodesRejected', 'EmailsSent',
    'EmailsFailedTransient', 'EmailsFailedPermanent', 'EmailsDroppedStale', 'SesSendLatency', 'ApproximateAgeOfOldestMessage',
    'CodesKilled', 'GuessBackoffRefusals', 'DeadCodesInARow', 'AddressBudgetRefusals']) {
    assert.ok(body.includes(metric), `the dashboard shows ${metric}`);
  }
});

test('SES publishes every delivery event to EventBridge, and a rule takes them to an encrypted TLS-only queue', () => {
  template.hasResourceProperties('AWS::SES::ConfigurationSet', {
    SuppressionOptions: { SuppressedReasons: Match.arrayEquals(['BOUNCE', 'COMPLAINT']) },
  });
  const destination = ofType('AWS::SES::ConfigurationSetEventDestination')[0][1].Properties.EventDestination;
  assert.deepEqual([...destination.MatchingEventTypes].sort(),
    ['bounce', 'complaint', 'delivery', 'deliveryDelay', 'reject', 'renderingFailure', 'send']);
  assert.match(JSON.stringify(destination.EventBridgeDestination.EventBusArn), /event-bus\/default/);
  const rule = ofType('AWS::Events::Rule')[0][1].Properties;
  assert.deepEqual(rule.EventPattern.source, ['aws.ses']);
  assert.deepEqual(rule.EventPattern['detail-type'], FEEDBACK_DETAIL_TYPES);
  assert.ok(rule.EventPattern.detail.mail.tags['ses:configuration-set'], 'only this configuration set');
  const [queueId, queue] = ofType('AWS::SQS::Queue').find(([id]) => id.includes('FeedbackQueue'))!;
  assert.equal(queue.Properties.SqsManagedSseEnabled, true);
  assert.ok(queue.Properties.RedrivePolicy.deadLetterTargetArn, 'a dead-letter queue');
  assert.match(JSON.stringify(rule.Targets[0].Arn), new RegExp(queueId));
  const policy = ofType('AWS::SQS::QueuePolicy').map(([, p]) => JSON.stringify(p.Properties))
    .find((p) => p.includes(queueId) && p.includes('events.amazonaws.com'));
  assert.ok(policy && policy.includes('aws:SecureTransport'), 'EventBridge may send; TLS only');
});

test('mail-feedback consumes the feedback queue and may only read and write the auth state table', () => {
  const id = functionId('mail-feedback');
  const env = resources[id].Properties.Environment.Variables;
  assert.ok(env.AUTH_STATE_TABLE && env.COGNITO_USER_POOL_ID);
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    FunctionName: { Ref: id }, FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10,
  });
  const role = resources[id].Properties.Role['Fn::GetAtt'][0];
  const actions = ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(role))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat()));
  assert.deepEqual([...new Set(actions.filter((a: string) => a.startsWith('dynamodb:')))].sort(),
    ['dynamodb:GetItem', 'dynamodb:PutItem']);
  assert.ok(!actions.some((a: string) => a.startsWith('ses:') || a.startsWith('cognito')), 'nothing but the table and its queue');
});

test('alarms fire at half the rates SES reviews accounts at, and on feedback dead letters', () => {
  const alarms = ofType('AWS::CloudWatch::Alarm').map(([id, a]) => [id, a.Properties] as const);
  const byId = (part: string) => alarms.find(([id]) => id.includes(part))![1];
  const bounce = byId('BounceRateAlarm');
  assert.equal(bounce.Threshold, 2);
  assert.equal(bounce.ComparisonOperator, 'GreaterThanThreshold');
  assert.match(JSON.stringify(bounce.Metrics), /SesBounces/);
  assert.match(JSON.stringify(bounce.Metrics), /"Period":86400/);
  const complaint = byId('ComplaintRateAlarm');
  assert.equal(complaint.Threshold, 0.05);
  assert.match(JSON.stringify(complaint.Metrics), /SesComplaints/);
  assert.equal(byId('FeedbackDeadLetterAlarm').Threshold, 1);
  for (const part of ['BounceRateAlarm', 'ComplaintRateAlarm', 'FeedbackDeadLetterAlarm']) {
    assert.match(JSON.stringify(byId(part).AlarmActions), /ops-alerts/, part);
  }
  const dashboard = JSON.stringify(ofType('AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
  for (const title of ['SES events', 'Bounce and complaint rates', 'Feedback queue']) assert.ok(dashboard.includes(title), title);
});

test('the auth API lets browsers send the sign-in session header its status endpoint reads', () => {
  synth({ apiAllowedOrigins: 'https://app.example.com' }).template.hasResourceProperties('AWS::Lambda::Url', {
    Cors: Match.objectLike({ AllowHeaders: Match.arrayWith(['x-sign-in-session']) }),
  });
});

test('with passkeys, the auth API gets their settings, may send the notices and nothing more, and browsers may rename and remove', () => {
  const passkeys = { passkeyRpId: 'Example.com', passkeyOrigins: 'https://app.example.com, https://example.com',
    accountUrl: 'https://app.example.com/account', apiAllowedOrigins: 'https://app.example.com' };
  const { template: t } = synth(passkeys);
  const all = t.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const [apiId, api] = Object.entries(all).find(([, r]) => r.Type === 'AWS::Lambda::Function'
    && String(r.Properties.Description).startsWith('auth-api '))!;
  const env = api.Properties.Environment.Variables;
  const mailQueueId = Object.entries(all).find(([, r]) => r.Type === 'AWS::SQS::Queue' && r.Properties.RedrivePolicy)![0];
  assert.equal(env.PASSKEY_RP_ID, 'example.com');
  assert.equal(env.PASSKEY_ORIGINS, 'https://app.example.com,https://example.com');
  assert.equal(env.ACCOUNT_URL, 'https://app.example.com/account');
  assert.equal(env.MAX_EMAILS_PER_ADDRESS_PER_HOUR, '5');
  assert.deepEqual(env.MAIL_QUEUE_URL, { Ref: mailQueueId });
  const role = api.Properties.Role['Fn::GetAtt'][0];
  const statements = Object.values(all).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role))
    .flatMap((r) => r.Properties.PolicyDocument.Statement)
    .filter((st: any) => ![st.Action].flat().every((a: string) => a.startsWith('logs:')));
  const tableId = Object.entries(all).find(([, r]) => r.Type === 'AWS::DynamoDB::Table')![0];
  assert.deepEqual(statements, [
    { Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [tableId, 'Arn'] }] },
    { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [mailQueueId, 'Arn'] } },
  ], 'the table as before, and the mail queue for the notices: no wildcard, nothing else');
  t.hasResourceProperties('AWS::Lambda::Url', {
    TargetFunctionArn: { 'Fn::GetAtt': [apiId, 'Arn'] },
    Cors: Match.objectLike({ AllowMethods: Match.arrayWith(['PATCH', 'DELETE']) }),
  });
  // Without passkeys: none of it.
  const plain = resources[functionId('auth-api')].Properties.Environment.Variables;
  assert.ok(!('PASSKEY_RP_ID' in plain) && !('MAIL_QUEUE_URL' in plain));
  // Checked at synth, naming the parameter.
  assert.throws(() => synth({ ...passkeys, passkeyRpId: '127.0.0.1' }), /passkeyRpId/);
  assert.throws(() => synth({ ...passkeys, passkeyRpId: 'https://example.com' }), /passkeyRpId/);
  assert.throws(() => synth({ ...passkeys, passkeyOrigins: '' }), /passkeyOrigins/);
  assert.throws(() => synth({ ...passkeys, passkeyOrigins: 'http://app.example.com' }), /passkeyOrigins/);
  assert.throws(() => synth({ ...passkeys, passkeyOrigins: 'https://evil.example' }), /passkeyOrigins.*example\.com/);
  assert.throws(() => synth({ ...passkeys, passkeyOrigins: 'https://notexample.com' }), /passkeyOrigins/);
  assert.throws(() => synth({ ...passkeys, accountUrl: '' }), /accountUrl/);
  assert.throws(() => synth({ passkeyOrigins: 'https://app.example.com' }), /passkeyOrigins.*passkeyRpId/);
});

test('cdk-nag AwsSolutions checks pass, and every acknowledgement has a reason', () => {
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  const violations = report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`);
  assert.deepEqual(violations, []);
  let acknowledged = 0;
  for (const node of stack.node.findAll()) {
    for (const entry of node.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')) {
      // Recorded as { ruleId: reason }.
      for (const [rule, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        acknowledged += 1;
        assert.match(rule, /AwsSolutions-/, node.node.path);
        assert.ok(typeof reason === 'string' && reason.length > 20, `${node.node.path}: ${rule} has no reason`);
      }
    }
  }
  assert.ok(acknowledged >= 3, `${acknowledged} acknowledgements found`);
});

test('missing or bad parameters stop synthesis with their name', () => {
  assert.throws(() => synth({ senderDomain: '' }), /senderDomain/);
  assert.throws(() => synth({ loginUrl: 'http://app.example.com/x' }), /loginUrl/);
  assert.throws(() => synth({ codeTtlSeconds: '100' }), /codeTtl/);
  assert.throws(() => synth({ alarmTopicArn: 'topic' }), /alarmTopicArn/);
  assert.throws(() => synth({ logRetentionDays: '2' }), /logRetentionDays/);
  assert.throws(() => synth({ codeLength: '4' }), /codeLength.*6 to 12/);
  assert.throws(() => synth({ codeLength: '6.5' }), /codeLength/);
  assert.throws(() => synth({ maxAttempts: '0' }), /maxAttempts.*1 to 10/);
  assert.throws(() => synth({ maxAttempts: '11' }), /maxAttempts/);
  assert.throws(() => synth({ resendAfterSeconds: '5' }), /resendAfterSeconds.*10 to 3600/);
  assert.throws(() => synth({ maxEmailsPerHour: '0' }), /maxEmailsPerHour.*1 to 60/);
  assert.throws(() => synth({ maxWrongAnswersPerCode: '11' }), /maxWrongAnswersPerCode.*1 to 10/);
  assert.throws(() => synth({ maxWrongAnswersPerCode: 'many' }), /maxWrongAnswersPerCode/);
  assert.throws(() => synth({ maxEmailsPerAddressPerHour: '0' }), /maxEmailsPerAddressPerHour.*1 to 60/);
  assert.throws(() => synth({ maxEmailsPerAddressPerHour: '61' }), /maxEmailsPerAddressPerHour/);
  assert.throws(() => synth({ maxEmailsPerAddressPerHour: '2.5' }), /maxEmailsPerAddressPerHour/);
  assert.throws(() => synth({ emailHint: 'full' }), /emailHint.*none, masked/);
  assert.throws(() => synth({ emailHint: 'Masked' }), /emailHint/);
  assert.throws(() => synth({ guessBackoffBaseSeconds: '0' }), /guessBackoffBaseSeconds.*1 to 3600/);
  assert.throws(() => synth({ guessBackoffBaseSeconds: '3601', guessBackoffMaxSeconds: '7200' }), /guessBackoffBaseSeconds/);
  assert.throws(() => synth({ guessBackoffMaxSeconds: '86401' }), /guessBackoffMaxSeconds.*86400/);
  assert.throws(() => synth({ guessBackoffBaseSeconds: '600', guessBackoffMaxSeconds: '300' }), /guessBackoffMaxSeconds.*guessBackoffBaseSeconds/);
  assert.throws(() => synth({ deadCodesAlarmThreshold: '0' }), /deadCodesAlarmThreshold.*1 to 1000/);
  assert.throws(() => synth({ deadCodesAlarmThreshold: '1001' }), /deadCodesAlarmThreshold/);
  assert.doesNotThrow(() => synth({
    emailHint: 'masked', maxEmailsPerAddressPerHour: '60', guessBackoffBaseSeconds: '3600', guessBackoffMaxSeconds: '3600',
    deadCodesAlarmThreshold: '1000',
  }));
  assert.doesNotThrow(() => synth({ guessBackoffBaseSeconds: '1', guessBackoffMaxSeconds: '86400', deadCodesAlarmThreshold: '1',
    maxEmailsPerAddressPerHour: '1', codeLength: '6' }));
  assert.throws(() => synth({ mailFrom: 'Acme <no-reply@other.example>' }), /mailFrom.*senderDomain mail\.example\.com/);
  assert.throws(() => synth({ mailFrom: 'not an address' }), /mailFrom/);
  assert.doesNotThrow(() => synth({ mailFrom: 'Acme <no-reply@MAIL.example.com>', codeLength: '12', maxAttempts: '10' }));
  assert.equal(Duration.minutes(3).toSeconds(), 180);
});
