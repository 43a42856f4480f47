/**
 * Orchestrator requests labelled with the task type a person would give them (USE-CASES §2),
 * used to measure task-type inference. Kept apart from the classifier's own exemplars in
 * `domain/task-types.ts`: no sentence appears in both.
 */
export const labelledRequests: readonly { text: string; taskType: string }[] = [
  // code_generation
  {
    text: 'Write a TypeScript function that parses ISO dates into epoch milliseconds',
    taskType: 'code_generation',
  },
  { text: 'Create a React component for a paginated user table', taskType: 'code_generation' },
  {
    text: 'Implement a REST endpoint that returns the current user profile',
    taskType: 'code_generation',
  },
  {
    text: 'Generate a Python script that renames every file in a folder by date',
    taskType: 'code_generation',
  },
  { text: 'Add a CLI flag --dry-run to the import command', taskType: 'code_generation' },
  { text: 'Scaffold a new Express service with a health route', taskType: 'code_generation' },
  { text: 'Write the CRUD handlers for the invoices model', taskType: 'code_generation' },
  { text: 'Implement an LRU cache class with get and set in Go', taskType: 'code_generation' },
  {
    text: 'Code a webhook receiver that verifies the Stripe signature',
    taskType: 'code_generation',
  },
  { text: 'Build a small library function to slugify article titles', taskType: 'code_generation' },
  // data_analysis
  {
    text: 'Analyse last quarter sales by region and find the top growing markets',
    taskType: 'data_analysis',
  },
  {
    text: 'What is the correlation between session length and conversion in this CSV?',
    taskType: 'data_analysis',
  },
  { text: 'Plot monthly active users for 2025 and describe the trend', taskType: 'data_analysis' },
  { text: 'Compute churn per cohort from the subscriptions dataset', taskType: 'data_analysis' },
  {
    text: 'Summarise the survey responses with statistics per question',
    taskType: 'data_analysis',
  },
  { text: 'Find outliers in the transaction amounts table', taskType: 'data_analysis' },
  { text: 'Build a pivot of revenue by product line and week', taskType: 'data_analysis' },
  { text: 'Forecast next month ticket volume from the support data', taskType: 'data_analysis' },
  {
    text: 'Which marketing channels drive the most signups? Break it down by source',
    taskType: 'data_analysis',
  },
  {
    text: 'Aggregate the clickstream logs and report the distribution of page views',
    taskType: 'data_analysis',
  },
  // testing
  { text: 'Write unit tests for the billing calculator', taskType: 'testing' },
  { text: 'Add integration tests covering the login flow', taskType: 'testing' },
  { text: 'Increase test coverage of the parser module to 90 percent', taskType: 'testing' },
  { text: 'Create end-to-end tests with Playwright for checkout', taskType: 'testing' },
  { text: 'Mock the payment gateway in the order service specs', taskType: 'testing' },
  { text: 'Set up pytest fixtures for the database layer', taskType: 'testing' },
  { text: 'Write a regression test for the timezone rounding issue', taskType: 'testing' },
  { text: 'Add property-based tests for the merge function', taskType: 'testing' },
  { text: 'Verify the API contract with snapshot tests', taskType: 'testing' },
  { text: 'QA the signup form against the acceptance criteria', taskType: 'testing' },
  // deployment
  { text: 'Deploy the Next.js app to Vercel production', taskType: 'deployment' },
  { text: 'Ship version 2.3 of the API to the staging cluster', taskType: 'deployment' },
  { text: 'Roll back the last release on Kubernetes', taskType: 'deployment' },
  { text: 'Publish the docs site to Netlify', taskType: 'deployment' },
  { text: 'Push the Docker image and roll it out with Helm', taskType: 'deployment' },
  { text: 'Release the mobile backend to AWS Lambda', taskType: 'deployment' },
  { text: 'Set up a CI/CD pipeline that deploys on every merge to main', taskType: 'deployment' },
  { text: 'Promote the staging build to production', taskType: 'deployment' },
  { text: 'Apply the Terraform plan to provision the new environment', taskType: 'deployment' },
  { text: 'Publish the package to npm with a new tag', taskType: 'deployment' },
  // debugging
  {
    text: 'Fix the TypeError: cannot read properties of undefined in the cart page',
    taskType: 'debugging',
  },
  { text: 'Why does the worker crash with exit code 137?', taskType: 'debugging' },
  { text: 'The login button does nothing on Safari, find the bug', taskType: 'debugging' },
  { text: 'Investigate the 500 errors from the orders endpoint', taskType: 'debugging' },
  { text: 'Debug the race condition in the job scheduler', taskType: 'debugging' },
  { text: 'Stack trace shows a null pointer exception in PaymentService', taskType: 'debugging' },
  {
    text: 'The import script is broken since yesterday, figure out what happened',
    taskType: 'debugging',
  },
  { text: 'Track down the memory leak that makes the pod restart', taskType: 'debugging' },
  { text: 'Users get logged out randomly; diagnose the session problem', taskType: 'debugging' },
  { text: 'Resolve the segfault when loading the native module', taskType: 'debugging' },
  // system_design
  {
    text: 'Design the architecture for a multi-tenant notification system',
    taskType: 'system_design',
  },
  {
    text: 'How should we shard the events database to scale to a billion rows?',
    taskType: 'system_design',
  },
  {
    text: 'Propose a microservices split for the monolith with trade-offs',
    taskType: 'system_design',
  },
  { text: 'Design a highly available rate limiter across regions', taskType: 'system_design' },
  { text: 'Draw the component diagram for the ingestion pipeline', taskType: 'system_design' },
  {
    text: 'Choose between event sourcing and CRUD for the ledger service',
    taskType: 'system_design',
  },
  {
    text: 'Plan capacity and load balancing for the video upload service',
    taskType: 'system_design',
  },
  { text: 'Design the data model and APIs for a booking platform', taskType: 'system_design' },
  {
    text: 'What architecture would make the search service fault tolerant?',
    taskType: 'system_design',
  },
  { text: 'Sketch an event-driven design for order fulfilment', taskType: 'system_design' },
  // documentation
  {
    text: 'Write the README for the CLI with install and usage sections',
    taskType: 'documentation',
  },
  { text: 'Document the public API of the client package', taskType: 'documentation' },
  { text: 'Add docstrings to every function in utils.py', taskType: 'documentation' },
  { text: 'Update the changelog for release 4.1', taskType: 'documentation' },
  { text: 'Write an onboarding guide for new backend engineers', taskType: 'documentation' },
  { text: 'Create a tutorial on configuring webhooks', taskType: 'documentation' },
  { text: 'Explain the retry policy in the docs', taskType: 'documentation' },
  { text: 'Generate JSDoc comments for the hooks directory', taskType: 'documentation' },
  { text: 'Write an architecture decision record about choosing NATS', taskType: 'documentation' },
  { text: 'Fill in the wiki page describing the on-call runbook', taskType: 'documentation' },
  // optimization
  { text: 'Speed up the dashboard query that takes 8 seconds', taskType: 'optimization' },
  { text: 'Reduce the bundle size of the web app', taskType: 'optimization' },
  { text: 'Optimise memory usage of the image resizer', taskType: 'optimization' },
  { text: 'The API p99 latency is too high, make it faster', taskType: 'optimization' },
  { text: 'Profile the batch job and remove the bottleneck', taskType: 'optimization' },
  { text: 'Add caching to cut database load on the product page', taskType: 'optimization' },
  { text: 'Improve throughput of the Kafka consumer', taskType: 'optimization' },
  { text: 'Lower our cloud bill by right-sizing the instances', taskType: 'optimization' },
  { text: 'Make the startup time of the service shorter', taskType: 'optimization' },
  { text: 'Tune the Postgres indexes for the reporting queries', taskType: 'optimization' },
  // general
  { text: 'Summarise this meeting transcript in five bullet points', taskType: 'general' },
  { text: 'Draft a polite email declining the vendor proposal', taskType: 'general' },
  { text: 'What is the capital of Australia?', taskType: 'general' },
  { text: 'Translate this paragraph into German', taskType: 'general' },
  { text: 'Give me ideas for a team offsite', taskType: 'general' },
  { text: 'Hello, can you help me?', taskType: 'general' },
  { text: 'Schedule a reminder for the quarterly review', taskType: 'general' },
  { text: 'Recommend three books about leadership', taskType: 'general' },
  { text: 'Rewrite this announcement to sound friendlier', taskType: 'general' },
  { text: 'Compare the pros and cons of working remotely', taskType: 'general' },
];
