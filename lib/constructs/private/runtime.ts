import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The runtime of every modelship function: the newest Node.js that Lambda and aws-cdk-lib know. */
export const MODELSHIP_RUNTIME = lambda.Runtime.NODEJS_24_X;
