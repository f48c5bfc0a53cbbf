// Detection clauses of one event execution (EVENTSCOPE_DETECT): each clause's outcome, the one that stopped the
// detection highlighted, and the values it compared when the role may read them.
import { clauseValues, stoppingClause, type Clause, type ColumnChange } from '../lib/detection';
import { shortJson } from '../lib/detection';

export function ClauseList({ clauses, valuesHidden }: { clauses: Clause[]; valuesHidden?: boolean }) {
  if (clauses.length === 0) return <span className="muted small">no clauses recorded (plain detected())</span>;
  return (
    <ol className="clauses" data-testid="clause-list">
      {clauses.map((c, i) => {
        const v = clauseValues(c);
        return (
          <li key={i} className={`clause clause-${c.outcome}`} data-outcome={c.outcome} title={c.expression ?? c.name}>
            <span className="clause-mark" aria-hidden>
              {c.outcome === 'passed' ? '✓' : c.outcome === 'skipped' ? '·' : '✗'}
            </span>{' '}
            <span className="clause-name">{c.name}</span> <span className="muted small">{c.outcome}</span>
            {c.expression ? <code className="clause-expr small">{c.expression}</code> : null}
            {v !== null ? (
              <code className="clause-values small" data-testid="clause-values">
                {v}
              </code>
            ) : null}
          </li>
        );
      })}
      {valuesHidden ? <li className="muted small">values hidden from your role</li> : null}
    </ol>
  );
}

/** One line: "stopped by <clause>: <values>", for tables. */
export function StoppedBy({ clauses, rejectedBy, valuesHidden }: { clauses: Clause[]; rejectedBy?: string | null; valuesHidden?: boolean }) {
  const c = stoppingClause(clauses);
  const name = c?.name ?? rejectedBy;
  if (!name) return null;
  const v = c ? clauseValues(c) : null;
  return (
    <span className="stopped-by" data-testid="stopped-by">
      stopped by <strong className="clause-failed-text">{name}</strong>
      {c?.outcome === 'threw' ? <span className="fail-text small"> (threw)</span> : null}
      {v !== null ? <code className="clause-values small">{v}</code> : valuesHidden ? <span className="muted small"> (values hidden from your role)</span> : null}
    </span>
  );
}

export function ChangesTable({ changes }: { changes: ColumnChange[] }) {
  if (changes.length === 0) return <p className="muted">The UPDATE changed no column.</p>;
  return (
    <table className="table compact" data-testid="changes-table">
      <thead>
        <tr>
          <th>Column</th>
          <th>Old</th>
          <th>New</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.column} data-column={c.column}>
            <td>
              <strong>{c.column}</strong> {c.kind !== 'changed' ? <span className="muted small">({c.kind})</span> : null}
            </td>
            <td className="mono small wrap diff-old">{shortJson(c.old, 200)}</td>
            <td className="mono small wrap diff-new">{shortJson(c.new, 200)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
