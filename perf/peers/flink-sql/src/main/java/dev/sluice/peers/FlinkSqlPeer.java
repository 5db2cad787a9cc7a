package dev.sluice.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Benchmark peer: one of sluice's benchmark queries (S0, S2, S3a; perf/README.md) as Flink SQL,
 * run by a local mini-cluster inside this JVM. Reads the JSON input topic written by
 * {@code sluice gen} from the earliest offset and writes JSON to the output topic until killed.
 *
 * <pre>
 * FlinkSqlPeer --bootstrap HOST:PORT --scenario S0|S2|S3a --input TOPIC --output TOPIC --group ID
 *              [--parallelism N] [--explain 1]
 * </pre>
 *
 * The sink's columns are taken from the query's result schema, and every output column is named
 * as sluice names it ({@code COUNT(*)}, {@code AVG(price)}, ...).
 */
public final class FlinkSqlPeer {

  /** One benchmark query: the source's name and columns, the SELECT, the sink's kind. */
  private record Scenario(String source, String columns, String query, Sink sink) {}

  private enum Sink {
    /** append-only: kafka connector, value only (null key) */
    APPEND,
    /** append-only: kafka connector, key = first column as raw UTF-8 */
    APPEND_KEYED,
    /** updating result: upsert-kafka connector, key (and primary key) = first column */
    UPSERT
  }

  private static final Map<String, Scenario> SCENARIOS = Map.of(
      "S0", new Scenario("orders",
          "order_id BIGINT, customer_id BIGINT, order_date STRING, total_amount DECIMAL(12, 2)",
          "SELECT order_id, customer_id, order_date, total_amount FROM orders"
              + " WHERE total_amount > 100",
          Sink.APPEND),
      // Every input record gives one update of its symbol's row (mini-batch is off).
      "S2", new Scenario("market_data",
          "symbol STRING, price DECIMAL(12, 2), quantity BIGINT",
          "SELECT symbol, COUNT(*) AS `COUNT(*)`, AVG(price) AS `AVG(price)`,"
              + " MIN(price) AS `MIN(price)`, MAX(price) AS `MAX(price)`,"
              + " SUM(quantity) AS `SUM(quantity)`"
              + " FROM market_data GROUP BY symbol",
          Sink.UPSERT),
      // Tumbling 1-minute event-time windows, one row per (window, trader, symbol) once the
      // watermark passes the window's end. window_start is TIMESTAMP(3) in the session time zone
      // (UTC, see main), turned into epoch milliseconds.
      "S3a", new Scenario("market_data",
          "trader_id STRING, symbol STRING, price DECIMAL(12, 2), quantity BIGINT,"
              + " trade_time BIGINT, ts AS TO_TIMESTAMP_LTZ(trade_time, 3),"
              + " WATERMARK FOR ts AS ts",
          "SELECT trader_id, symbol, COUNT(*) AS `COUNT(*)`, AVG(price) AS `AVG(price)`,"
              + " SUM(quantity) AS `SUM(quantity)`,"
              + " SUM(price * quantity) AS `SUM(price * quantity)`,"
              + " CAST(TIMESTAMPDIFF(SECOND, TIMESTAMP '1970-01-01 00:00:00', window_start)"
              + " AS BIGINT) * 1000 AS window_start"
              + " FROM TABLE(TUMBLE(TABLE market_data, DESCRIPTOR(ts), INTERVAL '1' MINUTES))"
              + " GROUP BY window_start, window_end, trader_id, symbol",
          Sink.APPEND_KEYED));

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = parseArgs(argv);
    Scenario scenario = SCENARIOS.get(args.get("scenario"));
    if (scenario == null) usage("unknown scenario " + args.get("scenario"));
    String bootstrap = args.get("bootstrap");
    int parallelism = Integer.parseInt(args.getOrDefault("parallelism", "2"));

    // Job settings (the mini-cluster gets as many task slots as the job's parallelism).
    Configuration conf = new Configuration();
    conf.setString("parallelism.default", Integer.toString(parallelism));
    // Checkpoints every 10 s: the Kafka sink flushes on each one (at-least-once) and the source
    // commits its offsets to the group. State lives on the heap (hashmap backend). Snapshots go
    // to a temporary directory, removed at exit: the in-memory "jobmanager" storage caps a
    // snapshot at 5 MiB, which S3a's open windows exceed while catching up on a preloaded topic
    // (a failed checkpoint restarts the job from the earliest offset, duplicating output).
    Path checkpoints = Files.createTempDirectory("flink-sql-peer-checkpoints-");
    conf.setString("execution.checkpointing.interval", "10 s");
    conf.setString("state.backend.type", "hashmap");
    conf.setString("execution.checkpointing.storage", "filesystem");
    conf.setString("execution.checkpointing.dir", checkpoints.toUri().toString());
    // At exit (SIGTERM, failure, --explain): cancel the job so the mini-cluster stops its tasks
    // (bounded, so exit stays quick), then remove the checkpoints.
    AtomicReference<JobClient> job = new AtomicReference<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        if (job.get() != null) job.get().cancel().get(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
      deleteTree(checkpoints);
    }, "peer-shutdown"));
    // Windows are aligned, and window_start computed, in UTC whatever the machine's zone.
    conf.setString("table.local-time-zone", "UTC");
    // Mini-batch stays off (the default): one aggregate update per input record.
    conf.setString("table.exec.mini-batch.enabled", "false");
    conf.setString("pipeline.name", "sluice-peer-" + args.get("scenario"));

    TableEnvironment tEnv = TableEnvironment.create(
        EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());

    Map<String, String> source = new LinkedHashMap<>();
    source.put("connector", "kafka");
    source.put("topic", args.get("input"));
    source.put("properties.bootstrap.servers", bootstrap);
    source.put("properties.group.id", args.get("group"));
    source.put("scan.startup.mode", "earliest-offset");
    source.put("format", "json");
    source.put("json.ignore-parse-errors", "false");
    // A source subtask without a partition never advances its watermark, which would hold back
    // S3a's windows for good: never run more source subtasks than the topic has partitions.
    int partitions = partitionCount(bootstrap, args.get("input"));
    if (parallelism > partitions) source.put("scan.parallelism", Integer.toString(partitions));
    tEnv.executeSql("CREATE TABLE " + scenario.source() + " (" + scenario.columns() + ") WITH ("
        + options(source) + ")");

    Table result = tEnv.sqlQuery(scenario.query());
    tEnv.executeSql(sinkDdl("sink", result.getResolvedSchema(), scenario.sink(),
        args.get("output"), bootstrap));

    if (args.containsKey("explain")) { // --explain 1: print the plan instead of running it
      System.out.println(result.insertInto("sink").explain());
      return;
    }
    TableResult insert = result.executeInsert("sink");
    job.set(insert.getJobClient().orElseThrow());
    System.err.println("flink-sql peer: " + args.get("scenario") + " running as job "
        + job.get().getJobID() + " (parallelism " + parallelism + ")");

    try {
      insert.await(); // a streaming job over Kafka never finishes on its own
    } catch (Exception e) {
      System.err.println("flink-sql peer: job failed: " + rootCause(e));
      e.printStackTrace();
      System.exit(1);
    }
  }

  /** CREATE TABLE for the sink, with the query's columns (nullability dropped). */
  private static String sinkDdl(String name, ResolvedSchema schema, Sink kind, String topic,
      String bootstrap) {
    List<String> columns = new ArrayList<>();
    for (Column c : schema.getColumns()) {
      columns.add("`" + c.getName() + "` "
          + c.getDataType().getLogicalType().copy(true).asSerializableString());
    }
    String key = schema.getColumns().get(0).getName();
    Map<String, String> opts = new LinkedHashMap<>();
    opts.put("connector", kind == Sink.UPSERT ? "upsert-kafka" : "kafka");
    opts.put("topic", topic);
    opts.put("properties.bootstrap.servers", bootstrap);
    if (kind == Sink.APPEND) {
      opts.put("format", "json");
    } else {
      // key: the first column's UTF-8 bytes (as sluice keys its output); value: every column
      opts.put("key.format", "raw");
      if (kind == Sink.APPEND_KEYED) opts.put("key.fields", key);
      opts.put("value.format", "json");
      opts.put("value.fields-include", "ALL");
    }
    String json = kind == Sink.APPEND ? "json." : "value.json.";
    opts.put(json + "encode.decimal-as-plain-number", "true"); // 150.00, never 1.5E+2
    opts.put("sink.delivery-guarantee", "at-least-once");
    if (kind == Sink.UPSERT) {
      // No sink buffer (the default): each update is sent, none are folded together.
      columns.add("PRIMARY KEY (`" + key + "`) NOT ENFORCED");
    }
    return "CREATE TABLE " + name + " (" + String.join(", ", columns) + ") WITH ("
        + options(opts) + ")";
  }

  /** The topic's partition count, from the broker. */
  private static int partitionCount(String bootstrap, String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
          .get(topic).partitions().size();
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }

  private static String options(Map<String, String> m) {
    List<String> out = new ArrayList<>();
    m.forEach((k, v) -> out.add("'" + k + "' = '" + v.replace("'", "''") + "'"));
    return String.join(", ", out);
  }

  private static Map<String, String> parseArgs(String[] argv) {
    Map<String, String> args = new LinkedHashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) usage("bad argument " + argv[i]);
      args.put(argv[i].substring(2), argv[++i]);
    }
    for (String required : List.of("bootstrap", "scenario", "input", "output", "group")) {
      if (!args.containsKey(required)) usage("missing --" + required);
    }
    return args;
  }

  private static String rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.toString();
  }

  private static void usage(String problem) {
    System.err.println("flink-sql peer: " + problem + "\nusage: FlinkSqlPeer --bootstrap HOST:PORT"
        + " --scenario S0|S2|S3a --input TOPIC --output TOPIC --group ID [--parallelism N]"
        + " [--explain 1]");
    System.exit(2);
  }
}
