/** How a task type is recognised: keyword rules and exemplar requests (for centroids). */
export interface TaskTypeDefinition {
  /** The task type label. */
  name: string;
  /** Word-boundary patterns; each match adds its weight (default 1). */
  keywords: readonly (RegExp | [RegExp, number])[];
  /** Typical requests; their embeddings' mean is the type's centroid. */
  exemplars: readonly string[];
}

/** Turns texts into unit vectors (the embedder's `memory.embed`, purpose `query`). */
export type EmbedTexts = (texts: string[]) => Promise<Float32Array[]>;

/** The catch-all type: chosen when nothing else scores. */
export const FALLBACK_TASK_TYPE = 'general';

const kw = (source: string, weight = 1): [RegExp, number] => [new RegExp(source, 'i'), weight];

/**
 * The nine task types of USE-CASES §2. Keywords are stems matched at word starts;
 * exemplars are not taken from the labelled evaluation set.
 */
export const builtInTaskTypes: readonly TaskTypeDefinition[] = [
  {
    name: 'code_generation',
    keywords: [
      kw('\\b(implement|scaffold|boilerplate|snippet|crud)'),
      kw(
        '\\b(write|create|generate|code|build|add)\\b[^.]{0,40}\\b(function|class|component|script|endpoint|handler|module|method|library|service|route|parser|hook|cli|flag|api)',
        2,
      ),
      kw('\\b(typescript|javascript|python|golang|rust|java|kotlin|swift)\\b', 0.5),
      kw('\\bgenerate (a |the )?code\\b', 2),
    ],
    exemplars: [
      'Write a function that validates email addresses',
      'Implement a class that wraps the HTTP client with retries',
      'Generate code for a GraphQL resolver',
      'Create a Vue component that shows a modal dialog',
      'Add an endpoint to upload avatars',
      'Write a script to convert JSON files to YAML',
      'Implement pagination in the list handler',
      'Scaffold a command line tool in Rust',
    ],
  },
  {
    name: 'data_analysis',
    keywords: [
      kw(
        '\\b(analy[sz]|dataset|data set|csv|statistic|correlat|cohort|churn|pivot|outlier|distribution|forecast|trend|kpi|survey|spreadsheet|pandas|histogram)',
      ),
      kw('\\b(plot|chart|visuali[sz]|aggregate|breakdown|break it down|segment)'),
      kw('\\b(revenue|sales|conversion|signups?|retention|page views?|active users)\\b', 0.75),
      kw('\\bdata\\b', 0.75),
    ],
    exemplars: [
      'Analyze the sales data and report the monthly trend',
      'Compute summary statistics for the customer dataset',
      'Chart revenue per region for the last year',
      'Find which features correlate with retention',
      'Segment users by activity and compare conversion rates',
      'Look at the CSV export and find anomalies',
      'Report the distribution of order values',
      'Predict next quarter demand from historical data',
    ],
  },
  {
    name: 'testing',
    keywords: [
      kw('\\b(tests?|testing|unit tests?|integration tests?|e2e|end-to-end tests?|specs?)\\b', 1.5),
      kw(
        '\\b(coverage|jest|vitest|mocha|pytest|playwright|cypress|fixtures?|mock|stub|assert|snapshot|qa)\\b',
      ),
      kw('\\b(acceptance criteria|test cases?|property-based)\\b'),
    ],
    exemplars: [
      'Write unit tests for the date utilities',
      'Add an integration test for the payment webhook',
      'Improve coverage of the auth module',
      'Create Cypress tests for the onboarding flow',
      'Mock the S3 client in the upload tests',
      'Test the edge cases of the tax calculation',
      'Set up a test fixture with a seeded database',
      'Check the feature works as specified before release',
    ],
  },
  {
    name: 'deployment',
    keywords: [
      kw(
        '\\b(deploy|redeploy|release|rollout|roll out|roll back|rollback|ship|promote|provision)',
        2,
      ),
      kw(
        '\\b(vercel|netlify|heroku|kubernetes|k8s|helm|lambda|cloud run|fly\\.io|render|ecs|terraform|ansible)\\b',
        1.5,
      ),
      kw('\\b(production|staging|ci/cd|pipeline|docker image|cluster|environment)\\b', 0.75),
      kw('\\bpublish\\b[^.]{0,30}\\b(to|on)\\b', 1),
    ],
    exemplars: [
      'Deploy the frontend to production',
      'Release the new version of the backend to staging',
      'Roll back the failed deployment',
      'Ship the service to the Kubernetes cluster with Helm',
      'Deploy the app on Vercel with the production environment',
      'Publish the site on Netlify',
      'Set up continuous deployment from GitHub Actions',
      'Provision the infrastructure and deploy the containers',
    ],
  },
  {
    name: 'debugging',
    keywords: [
      kw(
        '\\b(bug|debug|crash|exception|stack ?trace|traceback|segfault|broken|diagnos|investigat|track down|root cause|regression)',
        1.5,
      ),
      kw(
        '\\b(fix|error|errors|fails?|failing|not working|does nothing|wrong|issue|problem|leak|race condition|exit code)\\b',
      ),
      kw('\\b(typeerror|referenceerror|null pointer|undefined|500)\\b'),
      kw('\\bwhy (does|is|do)\\b'),
    ],
    exemplars: [
      'Fix the bug where the page crashes on load',
      'Debug why the build fails with a module not found error',
      'Investigate the exception thrown by the payment worker',
      'The app is broken after the upgrade, find the cause',
      'Why do requests time out intermittently?',
      'Find the root cause of the data corruption',
      'Resolve the error undefined is not a function',
      'The service keeps restarting, diagnose it',
    ],
  },
  {
    name: 'system_design',
    keywords: [
      kw(
        '\\b(architect|design|scalab|scale|shard|partition|microservice|monolith|high(ly)? available|availability|fault toleran|load balanc|capacity|trade-?offs?|event sourcing|event-driven|data model|diagram)',
        1.5,
      ),
      kw('\\b(system|distributed|multi-tenant|regions?|replication|consistency)\\b', 0.75),
    ],
    exemplars: [
      'Design a scalable chat system',
      'Propose an architecture for real-time analytics',
      'How would you partition the user data across regions?',
      'Design the service boundaries for the payments domain',
      'Choose a consistency model for the inventory service',
      'Plan a highly available queue with replication',
      'Draw the architecture diagram of the platform',
      'Evaluate the trade-offs of a monolith versus microservices',
    ],
  },
  {
    name: 'documentation',
    keywords: [
      kw(
        '\\b(document|documentation|docs|readme|docstring|jsdoc|javadoc|changelog|tutorial|guide|wiki|runbook|manual|decision record|adr)',
        2,
      ),
      kw('\\b(explain|describe|comments?|write-?up|usage section)\\b', 0.5),
    ],
    exemplars: [
      'Write documentation for the REST API',
      'Update the README with the new configuration options',
      'Add comments explaining the sorting algorithm',
      'Write a how-to guide for setting up the dev environment',
      'Document the deployment process in the wiki',
      'Prepare release notes for version 3',
      'Write API reference docs for the SDK',
      'Explain the module structure in the developer docs',
    ],
  },
  {
    name: 'optimization',
    keywords: [
      kw(
        '\\b(optimi[sz]|speed up|faster|slow|latency|throughput|bottleneck|profil|performance|perf|bundle size|efficien|right-?siz|tune|tuning)',
        2,
      ),
      kw('\\b(reduce|lower|cut|improve|shorter|less)\\b', 0.5),
      kw('\\b(cach|memory usage|cpu|load|cost|bill|indexes|p9\\d|startup time)', 0.75),
    ],
    exemplars: [
      'Optimize the slow SQL query on the orders table',
      'Make the page load faster',
      'Reduce the memory footprint of the worker',
      'Improve the performance of the search endpoint',
      'Profile the application and fix the hot path',
      'Cut the p95 latency of the checkout API',
      'Lower CPU usage of the encoder',
      'Decrease infrastructure cost without losing performance',
    ],
  },
  {
    name: 'general',
    keywords: [
      kw(
        '\\b(summari[sz]e|email|meeting|translate|remind|schedule|recommend|ideas?|hello|hi|thanks|rewrite|draft|letter|books?|capital of|pros and cons|friendlier)\\b',
      ),
    ],
    exemplars: [
      'Summarize this article for me',
      'Write a short thank-you note to the team',
      'What time zone is Tokyo in?',
      'Suggest a name for our new project',
      'Help me plan my week',
      'Translate the welcome message to Spanish',
      'Tell me a fun fact about space',
      'Proofread this paragraph',
    ],
  },
];

/** How the classifier combines its evidence. */
export type InferenceMethod = 'rules' | 'centroid' | 'hybrid';

export interface TaskTypeClassifierOptions {
  /** Task types to choose from (definitions looked up by name; unknown names match their own words). */
  taskTypes: readonly string[];
  method: InferenceMethod;
  /** Needed for `centroid` and `hybrid`. */
  embed?: EmbedTexts;
  /** Weight of the centroid cosine similarity against rule points in `hybrid` (default 4). */
  centroidWeight?: number;
  /** Extra or replacement definitions. */
  definitions?: readonly TaskTypeDefinition[];
}

/** A classification and where it came from. */
export interface Classification {
  taskType: string;
  /** `rules`, `centroid`, or `fallback` when nothing scored (or embedding failed in `hybrid`). */
  method: 'rules' | 'centroid' | 'fallback';
  /** The winning score. */
  score: number;
}

/** Infers a task type from request text: keyword rules, nearest centroid, or both summed. */
export class TaskTypeClassifier {
  readonly taskTypes: readonly string[];
  readonly #definitions: TaskTypeDefinition[];
  readonly #method: InferenceMethod;
  readonly #embed: EmbedTexts | undefined;
  readonly #centroidWeight: number;
  #centroids: Promise<Float32Array[]> | undefined;

  constructor(options: TaskTypeClassifierOptions) {
    const known = new Map(
      [...builtInTaskTypes, ...(options.definitions ?? [])].map((definition) => [
        definition.name,
        definition,
      ]),
    );
    this.taskTypes = [...new Set(options.taskTypes)];
    this.#definitions = this.taskTypes.map((name) => known.get(name) ?? definitionFromName(name));
    this.#method = options.method;
    this.#embed = options.embed;
    this.#centroidWeight = options.centroidWeight ?? 4;
    if (options.method !== 'rules' && !options.embed) {
      throw new Error(`task-type inference "${options.method}" needs an embed function`);
    }
  }

  /** The fallback type when configured, else the last configured type. */
  get fallback(): string {
    return this.taskTypes.includes(FALLBACK_TASK_TYPE)
      ? FALLBACK_TASK_TYPE
      : (this.taskTypes[this.taskTypes.length - 1] as string);
  }

  /** Keyword points per configured type. */
  ruleScores(text: string): number[] {
    return this.#definitions.map((definition) =>
      definition.keywords.reduce((sum, keyword) => {
        const [pattern, weight] = Array.isArray(keyword) ? keyword : [keyword, 1];
        return pattern.test(text) ? sum + weight : sum;
      }, 0),
    );
  }

  async classify(text: string): Promise<Classification> {
    const rules = this.#method === 'centroid' ? undefined : this.ruleScores(text);
    let similarities: number[] | undefined;
    if (this.#method !== 'rules') {
      try {
        similarities = await this.#similarities(text);
      } catch (error) {
        if (this.#method === 'centroid') throw error;
      }
    }
    const scores = this.#definitions.map(
      (_, index) =>
        (rules?.[index] ?? 0) +
        (similarities ? this.#centroidWeight * (similarities[index] ?? 0) : 0),
    );
    let best = -1;
    for (let index = 0; index < scores.length; index++) {
      if (best < 0 || (scores[index] as number) > (scores[best] as number)) best = index;
    }
    const topRule = rules ? Math.max(...rules) : 0;
    if (best < 0 || (topRule === 0 && !similarities)) {
      return { taskType: this.fallback, method: 'fallback', score: 0 };
    }
    return {
      taskType: this.taskTypes[best] as string,
      method: similarities ? 'centroid' : 'rules',
      score: scores[best] as number,
    };
  }

  async #similarities(text: string): Promise<number[]> {
    const embed = this.#embed as EmbedTexts;
    // Built once; a failure is forgotten so the next call retries.
    this.#centroids ??= buildCentroids(this.#definitions, embed).catch((error: unknown) => {
      this.#centroids = undefined;
      throw error;
    });
    const [centroids, [vector]] = await Promise.all([this.#centroids, embed([text])]);
    return centroids.map((centroid) => dot(centroid, vector as Float32Array));
  }
}

function definitionFromName(name: string): TaskTypeDefinition {
  const words = name.split(/[_\s-]+/).filter(Boolean);
  return {
    name,
    keywords: words.map((word) => kw(`\\b${word.replace(/[^\p{L}\p{N}]/gu, '')}`, 1.5)),
    exemplars: [words.join(' ')],
  };
}

async function buildCentroids(
  definitions: readonly TaskTypeDefinition[],
  embed: EmbedTexts,
): Promise<Float32Array[]> {
  const texts = definitions.flatMap((definition) => definition.exemplars);
  const vectors = await embed(texts);
  let offset = 0;
  return definitions.map((definition) => {
    const members = vectors.slice(offset, offset + definition.exemplars.length);
    offset += definition.exemplars.length;
    const dimension = members[0]?.length ?? 0;
    const centroid = new Float32Array(dimension);
    for (const member of members) {
      for (let index = 0; index < dimension; index++) {
        centroid[index] = (centroid[index] as number) + (member[index] as number);
      }
    }
    let norm = 0;
    for (const value of centroid) norm += value * value;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let index = 0; index < dimension; index++) {
      centroid[index] = (centroid[index] as number) * scale;
    }
    return centroid;
  });
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) sum += (a[index] as number) * (b[index] as number);
  return sum;
}
