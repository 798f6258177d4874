import { useMemo } from 'preact/hooks';
import { LineChart } from '../components/chart.js';
import { Loading, Problem, View } from '../components/ui.js';
import { useProjectData } from '../live.js';
import { formatTime } from '../logic/format.js';
import { burndownColumns, burndownFromReport, describeTrend, metricColumns } from '../logic/progress.js';
import type { BurndownSeries, ForecastResponse, MetricHistory, StatusView } from '../types.js';

/** The burndown, the forecast (P50 / P85 / P95) and each metric's recent values. */
export function ProgressView() {
  const status = useProjectData<StatusView>('/status');
  const report = useProjectData<unknown>('/reports/report?format=json');
  const forecastAnswer = useProjectData<ForecastResponse>('/forecast');
  const forecast = forecastAnswer.data?.forecast ?? forecastAnswer.data;
  const burndown = forecastAnswer.data?.burndown ?? burndownFromReport(report.data);
  const metrics = Object.entries(status.data?.metrics ?? {});
  return (
    <View name="progress" title="Progress" busy={status.loading}>
      <Loading loading={status.loading && !status.data} what="progress" />
      <Problem error={status.error} />
      <section aria-labelledby="burndown-title">
        <h2 id="burndown-title">Burndown</h2>
        {burndown ? (
          <Burndown series={burndown} />
        ) : report.loading ? (
          <p>Loading the burndown…</p>
        ) : (
          <p>No burndown yet.</p>
        )}
      </section>
      {forecast && !forecastAnswer.error ? (
        <section aria-labelledby="forecast-title" data-widget="forecast">
          <h2 id="forecast-title">Forecast</h2>
          {forecast.status === 'forecast' ? (
            <dl class="forecast">
              {(['p50', 'p85', 'p95'] as const).map((key) => (
                <div key={key}>
                  <dt>{key.toUpperCase()}</dt>
                  <dd>
                    {forecast[key]?.date ?? '—'}
                    {forecast[key]?.beyondHorizon ? ' (beyond the horizon)' : ''}
                  </dd>
                </div>
              ))}
            </dl>
          ) : (
            <p>{forecast.reason ?? 'No forecast can be made yet.'}</p>
          )}
          {forecastAnswer.data?.baselineFinish ? (
            <p>
              Planned finish {forecastAnswer.data.baselineFinish}
              {forecastAnswer.data.varianceDays !== undefined
                ? `; P50 is ${Math.abs(forecastAnswer.data.varianceDays)} working day${Math.abs(forecastAnswer.data.varianceDays) === 1 ? '' : 's'} ${forecastAnswer.data.varianceDays >= 0 ? 'later' : 'earlier'}`
                : ''}
              .
            </p>
          ) : null}
          {forecast.method ? <p class="sub">{forecast.method}</p> : null}
        </section>
      ) : null}
      <section aria-labelledby="metrics-title">
        <h2 id="metrics-title">Metrics</h2>
        {metrics.length === 0 ? <p>No metric reported yet.</p> : null}
        <ul class="metrics">
          {metrics.map(([name, latest]) => (
            <Metric key={name} name={name} value={latest.value} at={latest.at} zone={status.data?.timezone} />
          ))}
        </ul>
      </section>
    </View>
  );
}

function Burndown(props: { series: BurndownSeries }) {
  const columns = useMemo(() => burndownColumns(props.series), [props.series]);
  const chartSeries = useMemo(
    () => [
      { label: 'Ideal', values: columns.ideal, stroke: '#6b7280', dashed: true },
      { label: 'Remaining', values: columns.remaining, stroke: '#1d4ed8' },
    ],
    [columns],
  );
  return (
    <LineChart
      x={columns.x}
      series={chartSeries}
      summary={`Remaining ${props.series.remaining} of ${props.series.total} estimate-days on ${props.series.today}; planned finish ${props.series.plannedFinish}.`}
    />
  );
}

function Metric(props: { name: string; value: number; at: string; zone: string | undefined }) {
  const history = useProjectData<MetricHistory>(`/metrics/${encodeURIComponent(props.name)}`);
  const columns = useMemo(() => metricColumns(history.data?.points ?? []), [history.data]);
  const series = useMemo(
    () => [{ label: props.name, values: columns.y, stroke: '#1d4ed8' }],
    [columns, props.name],
  );
  return (
    <li class="metric" data-metric={props.name}>
      <span class="metric-name">{props.name}</span>
      <strong class="metric-value">{props.value}</strong>
      <span class="sub">{formatTime(props.at, props.zone)}</span>
      {columns.x.length > 1 ? (
        <LineChart
          compact
          x={columns.x}
          series={series}
          width={160}
          height={40}
          summary={describeTrend(props.name, columns.y)}
        />
      ) : null}
    </li>
  );
}
