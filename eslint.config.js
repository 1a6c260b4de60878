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

  // Layer boundaries: each layer of src/ names the layers it must not reach.
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
          ],
        },
      ],
    },
  },
  {
    files: ['src/export/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            layerImports(
              ['search', 'server', 'placement', 'runner', 'study', 'cli'],
              'src/export/ exports networks (PyTorch): it reaches src/core/, src/evaluator/ and src/store/ only.',
            ),
          ],
        },
      ],
    },
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
