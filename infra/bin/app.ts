#!/usr/bin/env node
// The CDK app: one stack, parameters from context, cdk-nag's AwsSolutions checks on synthesis.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parametersFromContext } from '../lib/parameters.ts';
import { PasswordlessStack } from '../lib/passwordless-stack.ts';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const stackName = String(app.node.tryGetContext('stackName') ?? 'PasswordlessSignIn');
new PasswordlessStack(app, stackName, {
  ...parametersFromContext((key) => app.node.tryGetContext(key)),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
