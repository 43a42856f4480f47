/**
 * The redaction tests' corpus: fake secrets with the real shapes (over 50, each with the kind
 * the redactor must report and the words around it that must survive) and realistic texts
 * without a secret. Over 400 lines on purpose: a data file, one case per secret shape.
 */
// Fake secrets with the real shapes; prefixes are joined at run time so secret scanners
// reading this file do not flag it.
export const join = (...parts: string[]) => parts.join('');
const AKIA = join('AK', 'IA', 'UJZDE8GXD6NCF10E');
const ASIA = join('AS', 'IA', 'PF91DHODZDOC9IS0');
const AWS_SECRET = 'spNxnyVmihA+2O76UMFxFkM+R5Kjp1vRt/1fjORS';
const AWS_SECRET_2 = '+6ilI8ihN5KXSc7Tvo+hBKqFYY+kv5ZJr3J1TWDt';
const github = (kind: string, rest: string) => join('gh', kind, '_', rest);
export const GHP = github('p', 'fljoQoaF1LlqsajAIxNKu8iS2G8NPRVdD53X');
export const GHO = github('o', '83RZJzzzzgEOzdmenCkhvMdgaKjIg8xNbe3n');
const GHU = github('u', 'NyjOq9wMxEhh2FDEEtfjgVvVqE1SkHbn88Hx');
export const GHS = github('s', 'jSI6bWHtP3fS2qHx6kwXoIIXGvOoNZYW2mZp');
const GHR = github('r', '0zVZomHFwUbbYrEqmSM9wCZ7Uw9xfogoEmvn');
const GITHUB_PAT = join(
  'github',
  '_pat_',
  '11AEN5N1aE6PwZPf1Qh6yY_TWmE4lBYOvfZ8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJibaZUPgHV7iB3m03n',
);
const OPENAI = join('sk', '-', 'bqnsGpWLuqIA1id6Vw5DQL05HA064GiIjHGb3CXlMaXZjljE');
const OPENAI_PROJECT = join(
  'sk',
  '-proj-',
  'phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMptUsq4i9DoV8gz4FkQ1okTBG',
);
const ANTHROPIC = join(
  'sk',
  '-ant-',
  'api03-ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt-PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8F5n3-YNBDAA',
);
const SLACK_BOT = join('xo', 'xb-', '532650201462-0168493407224-Caqx9vJupc94tnwlavyfErGP');
const SLACK_USER = join('xo', 'xp-', '532650201462-0168493407224-0168493407-WjQ5TY4MyWuUFjsU');
const SLACK_APP = join('xa', 'pp-1-', 'A04BCDEF123-XyYq6B0Fi7FlaZ7Vt0SXjMpu3uDxYYMfGmzWkpAe');
const SLACK_HOOK_PATH = 'T0123ABCD/B0456EFGH/v99NcqVTSu7rtaUWM6ZO88eb';
const STRIPE_LIVE = join('sk', '_live_', 'mpGXafq0fjzLczbttOofL9H2');
const STRIPE_TEST = join('sk', '_test_', 'WjQ5TY4MyWuUFjsUNPjc01T5');
const STRIPE_RESTRICTED = join('rk', '_live_', 'GOBUSZGi6HWGK10Zb0RLZ5TR');
const STRIPE_WEBHOOK = join('wh', 'sec_', 'v99NcqVTSu7rtaUWM6ZO88eb0ogET9D9');
const GOOGLE = join('AI', 'za', 'DkdfrUnW5gcF_Ha6ili8GjHEAD6-Wj9Kfzj');
export const NPM = join('np', 'm_', 'MjvqPVStNKiaEdFrRgSnRFsTHsDDDXh5Jmtf');
export const VERCEL = '7EbsDe0G9Cryn687neLfjVHq';
const VERCEL_2 = '8xiM0OGr4hTxoF54Fzbka8FR';
const JWT = join(
  'eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9',
  '.eyJzdWIiOiAidXNlcl84MjkiLCAicm9sZSI6ICJhZG1pbiIsICJleHAiOiAxNzE4MDAwMDAwfQ',
  '.5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZA',
);
const BASIC = 'ZGVwbG95LWJvdDpUcjB1YjRkb3ImM3g=';
const BEARER = 'fd02is5d9ik40vstqqzpt49zhkken659';
const PEM_BODY = [
  'C5Q52ryFlwRlOEVHzc0X0AWIRh/JUqBlIFXZ53Ncqe28+ajY75FnCttn6kfaqDeM',
  'qG3omjMyXHCabM6JOF8EFd0Nhcy/1kGD2VD/eR1UYzaLiA/zNyD7CHLn/xC+1hsY',
  'gBds1ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yPU8d0FZfWe7ihGyiRUI',
];
const pem = (label: string) =>
  join('-----BEGIN ', label, '-----\n', PEM_BODY.join('\n'), '\n-----END ', label, '-----');

export interface SecretCase {
  /** The text as an agent might store it. */
  text: string;
  /** Values that must not survive. */
  secrets: readonly string[];
  /** The kind that must be reported. */
  kind: string;
  /** Words around the secret that must survive. */
  keep: readonly string[];
}

export const secretCases: readonly SecretCase[] = [
  {
    text: `Deploy log: exported AWS_ACCESS_KEY_ID=${AKIA} before running terraform apply`,
    secrets: [AKIA],
    kind: 'aws-access-key-id',
    keep: ['Deploy log', 'AWS_ACCESS_KEY_ID=', 'terraform apply'],
  },
  {
    text: `The STS session used temporary key ${ASIA} and expired after an hour.`,
    secrets: [ASIA],
    kind: 'aws-access-key-id',
    keep: ['temporary key', 'expired after an hour.'],
  },
  {
    text: `~/.aws/credentials on the runner had aws_secret_access_key = ${AWS_SECRET} in the default profile`,
    secrets: [AWS_SECRET],
    kind: 'aws-secret-access-key',
    keep: ['aws_secret_access_key = ', 'default profile'],
  },
  {
    text: `CI env dump: AWS_SECRET_ACCESS_KEY="${AWS_SECRET_2}" region=eu-west-1`,
    secrets: [AWS_SECRET_2],
    kind: 'aws-secret-access-key',
    keep: ['CI env dump', 'AWS_SECRET_ACCESS_KEY="', 'region=eu-west-1'],
  },
  {
    text: `{"AccessKeyId": "${ASIA}", "SecretAccessKey": "${AWS_SECRET}"}`,
    secrets: [ASIA, AWS_SECRET],
    kind: 'aws-secret-access-key',
    keep: ['"AccessKeyId"', '"SecretAccessKey"'],
  },
  {
    text: `User pasted their token ${GHP} and asked why git push is rejected`,
    secrets: [GHP],
    kind: 'github-token',
    keep: ['User pasted their token', 'git push is rejected'],
  },
  {
    text: `OAuth callback returned ${GHO} for the octo-app integration`,
    secrets: [GHO],
    kind: 'github-token',
    keep: ['OAuth callback returned', 'octo-app integration'],
  },
  {
    text: `user-to-server token ${GHU} was revoked after the incident`,
    secrets: [GHU],
    kind: 'github-token',
    keep: ['user-to-server token', 'revoked after the incident'],
  },
  {
    text: `Actions log: GITHUB_TOKEN=${GHS} (installation token, 1h)`,
    secrets: [GHS],
    kind: 'github-token',
    keep: ['Actions log', 'GITHUB_TOKEN=', 'installation token'],
  },
  {
    text: `refresh token ${GHR} rotated on Tuesday`,
    secrets: [GHR],
    kind: 'github-token',
    keep: ['refresh token', 'rotated on Tuesday'],
  },
  {
    text: `Fine-grained PAT ${GITHUB_PAT} only has read access to membus`,
    secrets: [GITHUB_PAT],
    kind: 'github-token',
    keep: ['Fine-grained PAT', 'read access to membus'],
  },
  {
    text: `export OPENAI_API_KEY=${OPENAI} then restart the agent worker`,
    secrets: [OPENAI],
    kind: 'openai-api-key',
    keep: ['export OPENAI_API_KEY=', 'restart the agent worker'],
  },
  {
    text: `chat turn: "my key is ${OPENAI_PROJECT}, why do I get 429?"`,
    secrets: [OPENAI_PROJECT],
    kind: 'openai-api-key',
    keep: ['my key is', 'why do I get 429?'],
  },
  {
    text: `Anthropic calls failed with 401 although ANTHROPIC_API_KEY was ${ANTHROPIC} in .env`,
    secrets: [ANTHROPIC],
    kind: 'anthropic-api-key',
    keep: ['failed with 401', 'in .env'],
  },
  {
    text: `client = Anthropic(api_key="${ANTHROPIC}")`,
    secrets: [ANTHROPIC],
    kind: 'anthropic-api-key',
    keep: ['client = Anthropic(api_key="', '")'],
  },
  {
    text: `Slack bot token ${SLACK_BOT} posts deploy notices to #releases`,
    secrets: [SLACK_BOT],
    kind: 'slack-token',
    keep: ['Slack bot token', 'deploy notices to #releases'],
  },
  {
    text: `Found a user token (${SLACK_USER}) in the old wiki page`,
    secrets: [SLACK_USER],
    kind: 'slack-token',
    keep: ['Found a user token (', ') in the old wiki page'],
  },
  {
    text: `Socket mode app token ${SLACK_APP} is stored in Vault now`,
    secrets: [SLACK_APP],
    kind: 'slack-token',
    keep: ['Socket mode app token', 'stored in Vault now'],
  },
  {
    text: `Alerts go to https://hooks.slack.com/services/${SLACK_HOOK_PATH} (channel #oncall)`,
    secrets: [SLACK_HOOK_PATH],
    kind: 'slack-webhook',
    keep: ['Alerts go to https://hooks.slack.com/services/', '(channel #oncall)'],
  },
  {
    text: `Billing worker crashed; STRIPE_SECRET_KEY=${STRIPE_LIVE} was missing the live scope`,
    secrets: [STRIPE_LIVE],
    kind: 'stripe-key',
    keep: ['Billing worker crashed', 'STRIPE_SECRET_KEY=', 'live scope'],
  },
  {
    text: `Use ${STRIPE_TEST} for the sandbox checkout tests`,
    secrets: [STRIPE_TEST],
    kind: 'stripe-key',
    keep: ['Use', 'for the sandbox checkout tests'],
  },
  {
    text: `Restricted key ${STRIPE_RESTRICTED} can only read charges`,
    secrets: [STRIPE_RESTRICTED],
    kind: 'stripe-key',
    keep: ['Restricted key', 'can only read charges'],
  },
  {
    text: `Webhook signing secret ${STRIPE_WEBHOOK} differs between staging and prod`,
    secrets: [STRIPE_WEBHOOK],
    kind: 'stripe-key',
    keep: ['Webhook signing secret', 'differs between staging and prod'],
  },
  {
    text: `Maps widget loads with https://maps.googleapis.com/maps/api/js?key=${GOOGLE}&callback=init`,
    secrets: [GOOGLE],
    kind: 'google-api-key',
    keep: ['Maps widget loads with https://maps.googleapis.com/maps/api/js?key=', '&callback=init'],
  },
  {
    text: `.npmrc contains //registry.npmjs.org/:_authToken=${NPM} which leaked in the image`,
    secrets: [NPM],
    kind: 'npm-token',
    keep: ['.npmrc contains //registry.npmjs.org/:_authToken=', 'which leaked in the image'],
  },
  {
    text: `Set VERCEL_TOKEN=${VERCEL} in the GitHub Actions secrets for preview deploys`,
    secrets: [VERCEL],
    kind: 'vercel-token',
    keep: ['Set VERCEL_TOKEN=', 'preview deploys'],
  },
  {
    text: `Ran vercel deploy --prod --token ${VERCEL_2} from the laptop`,
    secrets: [VERCEL_2],
    kind: 'vercel-token',
    keep: ['Ran vercel deploy --prod --token', 'from the laptop'],
  },
  {
    text: `The session cookie was ${JWT}; it decodes to role admin`,
    secrets: [JWT],
    kind: 'jwt',
    keep: ['The session cookie was', 'it decodes to role admin'],
  },
  {
    text: `curl -H "Authorization: Bearer ${JWT}" https://api.example.com/v1/me returned 403`,
    secrets: [JWT],
    kind: 'jwt',
    keep: ['curl -H "Authorization: Bearer', 'https://api.example.com/v1/me returned 403'],
  },
  {
    text: `Request headers: Authorization: Basic ${BASIC}\nAccept: application/json`,
    secrets: [BASIC],
    kind: 'authorization-header',
    keep: ['Request headers: Authorization: Basic', 'Accept: application/json'],
  },
  {
    text: `Proxy logged authorization: Bearer ${BEARER} for the batch job`,
    secrets: [BEARER],
    kind: 'authorization-header',
    keep: ['Proxy logged authorization: Bearer', 'for the batch job'],
  },
  {
    text: `The webhook sender uses Bearer ${BEARER} on every call`,
    secrets: [BEARER],
    kind: 'bearer-token',
    keep: ['The webhook sender uses Bearer', 'on every call'],
  },
  {
    text: `Migration ran against postgres://app_user:N7k2pQx9Lm@db.internal:5432/orders and timed out`,
    secrets: ['N7k2pQx9Lm'],
    kind: 'url-password',
    keep: ['postgres://app_user:', '@db.internal:5432/orders', 'timed out'],
  },
  {
    text: `Worker connects to redis://:s3cr3tRedisPw@cache.prod:6379/0`,
    secrets: ['s3cr3tRedisPw'],
    kind: 'url-password',
    keep: ['redis://:', '@cache.prod:6379/0'],
  },
  {
    text: `Mongo URI mongodb+srv://admin:e9Pu2njHkAm1@cluster0.mongodb.net/app?retryWrites=true`,
    secrets: ['e9Pu2njHkAm1'],
    kind: 'url-password',
    keep: ['mongodb+srv://admin:', '@cluster0.mongodb.net/app?retryWrites=true'],
  },
  {
    text: `Cloned https://deploy-bot:wDr16EpLLJIVGH@git.example.com/infra.git on the runner`,
    secrets: ['wDr16EpLLJIVGH'],
    kind: 'url-password',
    keep: ['https://deploy-bot:', '@git.example.com/infra.git'],
  },
  {
    text: `Staging .env: DB_PASSWORD=z4FxFEtKyPiYGF and DB_HOST=staging-db`,
    secrets: ['z4FxFEtKyPiYGF'],
    kind: 'credential-assignment',
    keep: ['Staging .env: DB_PASSWORD=', 'and DB_HOST=staging-db'],
  },
  {
    text: `config.json had {"username": "ops", "password": "%Dm7ena8D5VfLD"} committed`,
    secrets: ['%Dm7ena8D5VfLD'],
    kind: 'credential-assignment',
    keep: ['"username": "ops"', '"password": "', '"} committed'],
  },
  {
    text: `values.yaml:\n  redis:\n    password: pgyyjV^w5HanSB\n    port: 6379`,
    secrets: ['pgyyjV^w5HanSB'],
    kind: 'credential-assignment',
    keep: ['redis:', 'password: ', 'port: 6379'],
  },
  {
    text: `In settings.py SECRET_KEY = 'django-insecure-eVRsfAGeAbP0Vx$3k!p' was left in prod`,
    secrets: ['django-insecure-eVRsfAGeAbP0Vx$3k!p'],
    kind: 'credential-assignment',
    keep: ["SECRET_KEY = '", "' was left in prod"],
  },
  {
    text: `OAuth app: client_secret=NjAe#9i0mYtluY, client_id=web-portal`,
    secrets: ['NjAe#9i0mYtluY'],
    kind: 'credential-assignment',
    keep: ['OAuth app: client_secret=', ', client_id=web-portal'],
  },
  {
    text: `the partner API needs x-api-key: I0KN1gNT11cUzY on every request`,
    secrets: ['I0KN1gNT11cUzY'],
    kind: 'credential-assignment',
    keep: ['the partner API needs x-api-key: ', 'on every request'],
  },
  {
    text: `const apiKey = "a8f5f167f44f4964e6c998dee827110c"; // analytics`,
    secrets: ['a8f5f167f44f4964e6c998dee827110c'],
    kind: 'credential-assignment',
    keep: ['const apiKey = "', '"; // analytics'],
  },
  {
    text: `Webhook URL was https://hooks.example.com/in?token=Qm9vbXNoYWthbGFrYQ&env=prod`,
    secrets: ['Qm9vbXNoYWthbGFrYQ'],
    kind: 'credential-assignment',
    keep: ['https://hooks.example.com/in?token=', '&env=prod'],
  },
  {
    text: `mysql -u root --password=Hx7!rT2qLw9 -h 10.0.0.5 failed`,
    secrets: ['Hx7!rT2qLw9'],
    kind: 'credential-assignment',
    keep: ['mysql -u root --password=', '-h 10.0.0.5 failed'],
  },
  {
    text: `Ran the CLI with --api-key 9c1e7b44d2a04f5d and it worked`,
    secrets: ['9c1e7b44d2a04f5d'],
    kind: 'credential-assignment',
    keep: ['Ran the CLI with --api-key', 'and it worked'],
  },
  {
    text: `password: hunter2!Q was the admin login on the old Jenkins box`,
    secrets: ['hunter2!Q'],
    kind: 'credential-assignment',
    keep: ['password: ', 'was the admin login'],
  },
  {
    text: `Keycloak realm export contained "privateKey": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"`,
    secrets: ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'],
    kind: 'credential-assignment',
    keep: ['"privateKey": "', 'Keycloak realm export'],
  },
  {
    text: `SMTP_PASS="Tr0ub4dor&3x" is used by the notifier`,
    secrets: ['Tr0ub4dor&3x'],
    kind: 'credential-assignment',
    keep: ['SMTP_PASS', 'is used by the notifier'],
  },
  {
    text: `session_token=7b2e9f41c0d84a1e9d3c in the HAR file`,
    secrets: ['7b2e9f41c0d84a1e9d3c'],
    kind: 'credential-assignment',
    keep: ['session_token=', 'in the HAR file'],
  },
  {
    text: `Incident note: the deploy key leaked:\n${pem('OPENSSH PRIVATE KEY')}\nRotated at 10:40.`,
    secrets: PEM_BODY,
    kind: 'private-key',
    keep: ['Incident note: the deploy key leaked:', 'Rotated at 10:40.'],
  },
  {
    text: `TLS key for api.example.com:\n${pem('RSA PRIVATE KEY')}`,
    secrets: PEM_BODY,
    kind: 'private-key',
    keep: ['TLS key for api.example.com:'],
  },
  {
    text: `The user pasted -----BEGIN PRIVATE KEY-----\n${PEM_BODY[0]}\n${PEM_BODY[1]} and the rest was cut off`,
    secrets: [PEM_BODY[0] as string, PEM_BODY[1] as string],
    kind: 'private-key',
    keep: ['The user pasted', 'and the rest was cut off'],
  },
  {
    text: `Two keys: ${GHP} for CI and ${NPM} for publishing`,
    secrets: [GHP, NPM],
    kind: 'npm-token',
    keep: ['Two keys:', 'for CI and', 'for publishing'],
  },
];

/** Realistic memory texts without a secret: they must come back unchanged. */
export const cleanTexts: readonly string[] = [
  'Deployed web-app v1.2.3 to Vercel production at 14:02; build took 84s.',
  "Build failed: Missing dependency 'react-dom' in packages/ui",
  'User prefers pnpm over npm and wants strict TypeScript.',
  'The access token expires after 15 minutes, so refresh it before long jobs.',
  'Rotate the API key every 90 days; the secret manager sends a reminder.',
  'Memory 018f3b2a-7c4d-7e8f-9a0b-1c2d3e4f5a6b was merged with its duplicate.',
  'Reverted commit 3f786850e387550fdab836ed7e6dc881de23001b after the outage.',
  'Docs live at https://docs.example.com/guides/auth?tab=tokens#rotation',
  'Password reset emails were delayed by 20 minutes on Monday.',
  'Token: expired. The user has to log in again.',
  'The tokenizer counts max_tokens: 4096 for the summariser.',
  'Secret rotation is handled by Vault; nobody should copy secrets into chat.',
  'Set the header Authorization to a fresh bearer token from the login flow.',
  'sk-learn-compatible-estimator-interface is the name of the adapter module.',
  'author: Jane Doe, reviewers: ops-team',
  'Run `pnpm exec vitest run services/embedder` before opening the pull request.',
  'Postgres connection string lives in DATABASE_URL, read from the environment.',
  'password: $DB_PASSWORD comes from the Kubernetes secret db-credentials',
  join('api_key: $', '{API_KEY} is injected at deploy time'),
  'The AWS region is eu-west-1 and the bucket is membus-backups-prod.',
  'Error ERR_CONNECTION_REFUSED when calling http://localhost:8080/api/health',
];
