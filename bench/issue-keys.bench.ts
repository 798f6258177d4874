import { extractIssueKeys, parseSmartCommits } from '../functions/core/integrations/issue-keys.js';
import { measure, report } from './harness.js';

const MEGABYTE = 1024 * 1024;

/**
 * Issue keys are read from every commit message, branch and PR a webhook brings, whose sizes the
 * sender chooses. A megabyte of the texts most likely to make a regular expression backtrack is read
 * in well under a second (test/unit/core/integrations/issue-keys.test.ts checks what is found).
 */
export async function run(): Promise<boolean> {
  const projects = { projects: ['AB', 'A_B_C_D_E_F'] };
  const texts: [string, string][] = [
    ['one long word', 'a'.repeat(MEGABYTE)],
    ['underscore-separated words', 'a_'.repeat(MEGABYTE / 2)],
    ['almost-keys', 'A-'.repeat(MEGABYTE / 2)],
    ['keys glued to accented letters', 'éAB-1'.repeat(MEGABYTE / 5)],
    ['keys', 'AB-1 '.repeat(MEGABYTE / 5)],
    ['a megabyte-long number', `AB-${'1'.repeat(MEGABYTE)}`],
    ['keys in Chinese prose', '修复AB-1'.repeat(MEGABYTE / 6)],
  ];
  return report(
    'Issue keys: a megabyte of adversarial text, keys and smart commits (target ≤ 1,000 ms each)',
    texts.map(([name, text]) => ({
      measurement: measure(
        name,
        () => {
          extractIssueKeys(text);
          extractIssueKeys(text, projects);
          parseSmartCommits(`AB-1 #comment ${text}`, projects);
        },
        3,
      ),
      limitMs: 1000,
    })),
  );
}
