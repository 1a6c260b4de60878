import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layer boundaries (issue 10). A relative import is matched by the folder names on its path, so
 * `../store/run-writer.js` from src/search/ and `../../store/x.js` from src/search/nsga2/ are both
 * caught (no src/ layer has a subfolder named like another layer).
 */
const LAYERS = [
  'core',
  'search',
  'store',
  'server',
  'evaluator',
  'placement',
  'runner',
  'study',
  'export',
  'cli',
];

/** An import of one of `layers` from a sibling layer of src/. */
function layerImports(layers, why) {
  return {
    regex: `^\\.\\.?/(?:[^/]+/)*(?:${layers.join('|')})(?:/|\\.js$)`,
    message: why,
  };
}

const NODE_BUILTINS = builtinModules.filter((m) => !m.startsWith('_'));
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Any Node.js built-in module, with or without `node:`, except those in `allowed`. */
function nodeBuiltins(allowed, why) {
  const except = allowed.map((m) => `(?!${escape(m)}$)`).join('');
  return {
    regex: `^${except}(?:node:.*|(?:${NODE_BUILTINS.map(escape).join('|')})(?:/.*)?)$`,
    message: why,
  };
}

/**
 * Issue 19: the placement layer (src/placement/) is the only place that makes a pool, a worker
 * thread or process, or a queue; everything else opens its evaluator with openEvaluator().
 */
const PLACEMENT_ONLY = {
  group: [
    'piscina',
    'bullmq',
    'node:worker_threads',
    'worker_threads',
    'node:child_process',
    'child_process',
  ],
  message:
    'Only src/placement/ makes pools, worker threads or processes and queues: open an evaluator with openEvaluator() (src/placement/placement.ts).',
};

/** Packages that do I/O (tensors, Redis, HTTP, files, terminals): never in src/core/. */
const IO_PACKAGES = {
  group: [
    '@tensorflow/*',
    'ioredis',
    'bullmq',
    'piscina',
    'express',
    'lowdb',
    'lowdb/*',
    'socket.io',
    'socket.io-client',
    'tar',
    'cli-progress',
    'commander',
  ],
  message:
    'src/core/ is the shared contract: plain data and pure functions, no package that does I/O.',
};

/** The web server's packages: only src/server/ speaks HTTP and the live feed. */
const SERVER_ONLY = {
  group: ['express', 'socket.io'],
  message: 'Only src/server/ serves HTTP and the live feed (express, socket.io).',
};

/** no-restricted-imports with `patterns`, plus the placement-only packages. */
const restrict = (...patterns) => ({
  'no-restricted-imports': ['error', { patterns: [...patterns, PLACEMENT_ONLY] }],
});

const CORE_IS_PURE =
  'src/core/ is the shared contract: plain data and pure functions, no I/O and no other layer.';
const coreRule = (allowedBuiltins) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        layerImports(
          LAYERS.filter((l) => l !== 'core'),
          CORE_IS_PURE,
        ),
        nodeBuiltins(allowedBuiltins, `${CORE_IS_PURE} (node:crypto only in canonical.ts)`),
        IO_PACKAGES,
      ],
    },
  ],
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-bench/**',
      'dashboard/dist/**',
      'node_modules/**',
      'runs/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-eval': 'error',
      'no-new-func': 'error',
    },
  },

  // Layer boundaries: each layer of src/ names the layers it must not reach. Every file of src/
  // outside src/placement/ is denied the placement-only packages (the layers' rules repeat them,
  // because a later rule replaces an earlier one for the same file).
  { files: ['src/**/*.ts'], rules: restrict() },
  { files: ['src/core/**/*.ts'], rules: coreRule([]) },
  { files: ['src/core/canonical.ts'], rules: coreRule(['node:crypto']) },
  {
    files: ['src/search/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerImports(
              ['store', 'server', 'evaluator', 'placement', 'runner', 'study', 'cli'],
              'src/search/ is the algorithm alone: it reaches src/core/ only.',
            ),
            {
              group: ['@tensorflow/*'],
              message: 'src/search/ is the algorithm alone: no tensors.',
            },
            PLACEMENT_ONLY,
          ],
        },
      ],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerImports(
              ['search', 'server', 'evaluator', 'placement', 'runner', 'study', 'cli'],
              'src/store/ stores runs: it reaches src/core/ only.',
            ),
            PLACEMENT_ONLY,
            SERVER_ONLY,
          ],
        },
      ],
    },
  },
  {
    files: ['src/evaluator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerImports(
              ['store', 'server', 'placement', 'runner', 'study', 'cli'],
              'src/evaluator/ evaluates networks: it reaches src/core/ and src/search/ only.',
            ),
            PLACEMENT_ONLY,
            SERVER_ONLY,
          ],
        },
      ],
    },
  },
  {
    // The kernels' throughput benchmark (robust-nas bench) measures kernels on N threads at once:
    // it places no evaluation, so it may start its own worker threads.
    files: ['src/evaluator/throughput-bench.ts', 'src/evaluator/bench-worker.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerImports(
              ['store', 'server', 'placement', 'runner', 'study', 'cli'],
              'src/evaluator/ evaluates networks: it reaches src/core/ and src/search/ only.',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['src/placement/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerImports(
              ['search', 'store', 'server', 'runner', 'study', 'cli'],
              'src/placement/ places evaluations (this process, the pool, Redis): it reaches src/core/ and src/evaluator/ only.',
            ),
            SERVER_ONLY,
          ],
        },
      ],
    },
  },
  {
    files: ['src/study/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerImports(
              ['search', 'server', 'runner', 'cli'],
              'src/study/ runs the founding study: it reaches src/core/, src/evaluator/, src/placement/ and src/store/ only.',
            ),
            PLACEMENT_ONLY,
            SERVER_ONLY,
          ],
        },
      ],
    },
  },
  {
    files: ['src/runner/**/*.ts'],
    rules: restrict(
      layerImports(
        ['server', 'placement', 'study', 'cli'],
        "src/runner/ runs a search's life: it reaches src/core/, src/search/, src/store/ and src/evaluator/ (the built-in surrogate) only; its evaluator is given to it.",
      ),
      SERVER_ONLY,
    ),
  },
  {
    files: ['src/server/**/*.ts'],
    rules: restrict(
      layerImports(
        ['search', 'cli'],
        'src/server/ serves runs and studies: it reaches src/core/, src/store/, src/runner/, src/evaluator/, src/placement/ and src/study/ (to list studies and validations) only.',
      ),
    ),
  },
  {
    files: ['src/cli/**/*.ts', 'src/cli.ts'],
    rules: restrict(
      {
        group: ['@tensorflow/*'],
        message: 'src/cli/ parses, calls and prints: tensors belong in src/evaluator/.',
      },
      {
        group: ['express', 'socket.io', 'ioredis', 'lowdb', 'lowdb/*'],
        message:
          'src/cli/ parses, calls and prints: HTTP belongs in src/server/, Redis in src/placement/, storage in src/store/.',
      },
    ),
  },
  {
    files: ['src/export/**/*.ts'],
    rules: restrict(
      layerImports(
        ['search', 'server', 'placement', 'runner', 'study', 'cli'],
        'src/export/ exports networks (PyTorch): it reaches src/core/, src/evaluator/ and src/store/ only.',
      ),
      SERVER_ONLY,
    ),
  },
  {
    files: ['dashboard/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\.?/(?:\\.\\./)*src/(?!core/)',
              message: 'The dashboard imports only src/core/ from the rest of the code.',
            },
          ],
        },
      ],
    },
  },
);
