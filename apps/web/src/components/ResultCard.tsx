import { analysisResultSchema, type AnalysisResult } from '@chat/protocol';

/** The card of a message whose metadata is a valid analysis result, or undefined (show the body). */
export function resultOf(metadata: Record<string, unknown>): AnalysisResult | undefined {
  if (metadata['kind'] !== 'analysis_result') return undefined;
  const parsed = analysisResultSchema.safeParse(metadata);
  return parsed.success ? parsed.data : undefined;
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 });

function signed(delta: number): string {
  return `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${numberFormat.format(Math.abs(delta))}`;
}

/**
 * An analysis result as a card. Every value is rendered as a text node (never as HTML), so text
 * in a result cannot inject markup; the link opens in a new tab without access to this page.
 */
export function ResultCard({ result }: { result: AnalysisResult }) {
  const headingId = `result-${Math.random().toString(36).slice(2)}`;
  return (
    <article class="result-card" aria-labelledby={headingId} data-testid="result-card">
      <h3 id={headingId}>{result.title}</h3>
      {result.summary !== undefined && <p class="result-summary">{result.summary}</p>}
      {result.figures !== undefined && result.figures.length > 0 && (
        <dl class="result-figures">
          {result.figures.map((figure, index) => (
            <div class="result-figure" key={index} data-testid="result-figure">
              <dt>{figure.label}</dt>
              <dd>
                <span class="figure-value">
                  {numberFormat.format(figure.value)}
                  {figure.unit !== undefined && ` ${figure.unit}`}
                </span>
                {figure.delta !== undefined && (
                  <span class={figure.delta > 0 ? 'figure-delta up' : figure.delta < 0 ? 'figure-delta down' : 'figure-delta'}>
                    {' '}
                    {signed(figure.delta)}
                    {(figure.deltaUnit ?? figure.unit) !== undefined && ` ${figure.deltaUnit ?? figure.unit}`}
                    <span class="visually-hidden"> since the previous run</span>
                  </span>
                )}
              </dd>
            </div>
          ))}
        </dl>
      )}
      {result.table !== undefined && (
        <table class="result-table">
          <thead>
            <tr>
              {result.table.columns.map((column, index) => (
                <th scope="col" key={index}>
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {result.table.rows.map((row, rowIndex) => (
              <tr key={rowIndex}>
                {row.map((cell, index) => (
                  <td key={index}>{cell === null ? '—' : typeof cell === 'number' ? numberFormat.format(cell) : cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result.link !== undefined && (
        <a class="result-link" href={result.link.url} target="_blank" rel="noopener noreferrer">
          {result.link.label}
        </a>
      )}
    </article>
  );
}
