import type { ComparisonOperator, Condition } from '../plan/lexical.js';

/**
 * How gates and escalations put numbers and conditions into sentences, so a Slack post, a gate
 * record and an escalation say "tps 1,800,000" and "≥ 2,000,000" the same way.
 */

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

const SYMBOL: Readonly<Record<ComparisonOperator, string>> = {
  '<': '<',
  '<=': '≤',
  '>': '>',
  '>=': '≥',
  '==': '=',
  '!=': '≠',
};

/** `1,800,000`, `0.25`, `-3`. */
export function formatNumber(value: number): string {
  return NUMBER.format(value);
}

/** `≥ 2,000,000`: the bound of a condition without its metric. */
export function formatBound(condition: Condition): string {
  return `${SYMBOL[condition.op]} ${formatNumber(condition.value)}`;
}

/** `tps ≥ 2,000,000`. */
export function formatCondition(condition: Condition): string {
  return `${condition.metric} ${formatBound(condition)}`;
}

/** How a value that fails a condition relates to its bound: `is below`, `is not above`, ... */
export function shortfall(condition: Condition): string {
  switch (condition.op) {
    case '>=':
      return 'is below';
    case '>':
      return 'is not above';
    case '<=':
      return 'is above';
    case '<':
      return 'is not below';
    case '==':
      return 'is not';
    case '!=':
      return 'equals';
  }
}
