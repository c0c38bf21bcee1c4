import { useEffect, useState } from 'react';
import type { JsonSchema } from '../../../lib/types';
import { fetchRuleSchema } from '../api/rules';

export interface SchemaIssue {
  path: string;
  message: string;
}

export type Validate = (value: unknown) => SchemaIssue[];

/** `/instancePath` → `$.a.b[0]`, the notation the server uses in its errors. */
export function toJsonPath(instancePath: string): string {
  if (!instancePath) return '$';
  return '$' + instancePath.split('/').slice(1).map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replace(/~1/g, '/').replace(/~0/g, '~')}`)).join('');
}

/**
 * Compile the rule schema served by the CEP engine (`GET /api/rules/schema`) with Ajv (loaded
 * with this page only). The server validates again on save; this gives errors while typing.
 */
export function useSchemaValidator(): { validate: Validate | null; error: unknown } {
  const [validate, setValidate] = useState<Validate | null>(null);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const controller = new AbortController();
    Promise.all([fetchRuleSchema(controller.signal), import('ajv/dist/2020')])
      .then(([schema, mod]) => {
        const Ajv = mod.default;
        const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
        const copy: JsonSchema = { ...schema };
        delete copy.$id;
        const check = ajv.compile(copy);
        setValidate(() => (value: unknown) => {
          if (check(value)) return [];
          const seen = new Set<string>();
          return (check.errors ?? [])
            .filter((e) => e.keyword !== 'if')
            .map((e) => {
              const extra = e.keyword === 'additionalProperties' ? `: ${String((e.params as { additionalProperty?: string }).additionalProperty)}` : e.keyword === 'enum' ? `: ${JSON.stringify((e.params as { allowedValues?: unknown[] }).allowedValues)}` : '';
              return { path: toJsonPath(e.instancePath), message: `${e.message ?? 'invalid'}${extra}` };
            })
            .filter((i) => {
              const key = `${i.path} ${i.message}`;
              if (seen.has(key)) return false;
              seen.add(key);
              return true;
            });
        });
      })
      .catch((exc: unknown) => {
        if (!controller.signal.aborted) setError(exc);
      });
    return () => controller.abort();
  }, []);
  return { validate, error };
}
