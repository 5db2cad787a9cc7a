package dev.sluice.peers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Benchmark peer: sluice's benchmark queries S0, S2 and S3a (perf/README.md) as Kafka Streams
 * topologies. Reads the JSON input topic written by {@code sluice gen} from the earliest offset
 * and writes JSON to the output topic, with the output columns named as sluice names them, until
 * SIGTERM.
 *
 * <pre>
 * StreamsPeer --bootstrap HOST:PORT --scenario S0|S2|S3a --input TOPIC --output TOPIC --app-id ID
 *             [--threads N] [--state-dir DIR] [--s3a-emit close|suppress]
 * </pre>
 *
 * Money is exact: prices are read as decimals and kept as long cents (DECIMAL(12, 2)).
 */
public final class StreamsPeer {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  // ---- input rows (one value deserializer per scenario: each record is parsed once) ----

  record Order(long orderId, long customerId, String orderDate, long totalCents) {}

  record Quote(String symbol, long priceCents, long quantity) {}

  record Trade(String traderId, String symbol, long priceCents, long quantity, long tradeTime) {}

  // ---- aggregates, stored as small fixed binary records ----

  /** S2: one symbol's running COUNT, SUM/MIN/MAX(price) in cents, SUM(quantity). */
  static final class SymbolAgg {
    long count, sumCents, minCents = Long.MAX_VALUE, maxCents = Long.MIN_VALUE, sumQty;

    SymbolAgg add(Quote q) {
      count++;
      sumCents += q.priceCents();
      minCents = Math.min(minCents, q.priceCents());
      maxCents = Math.max(maxCents, q.priceCents());
      sumQty += q.quantity();
      return this;
    }

    byte[] toBytes() {
      return ByteBuffer.allocate(40).putLong(count).putLong(sumCents).putLong(minCents)
          .putLong(maxCents).putLong(sumQty).array();
    }

    static SymbolAgg fromBytes(byte[] b) {
      ByteBuffer in = ByteBuffer.wrap(b);
      SymbolAgg a = new SymbolAgg();
      a.count = in.getLong();
      a.sumCents = in.getLong();
      a.minCents = in.getLong();
      a.maxCents = in.getLong();
      a.sumQty = in.getLong();
      return a;
    }
  }

  /**
   * S3a: one trader's window, symbol -> {COUNT, SUM(price) cents, SUM(quantity),
   * SUM(price * quantity) cents}. Grouping by trader_id (the input's key, so no repartition) and
   * keeping the symbols apart inside the value is GROUP BY trader_id, symbol.
   */
  static final class TraderWindow {
    final Map<String, long[]> bySymbol = new TreeMap<>();

    TraderWindow add(Trade t) {
      long[] a = bySymbol.computeIfAbsent(t.symbol(), s -> new long[4]);
      a[0]++;
      a[1] += t.priceCents();
      a[2] += t.quantity();
      a[3] += t.priceCents() * t.quantity();
      return this;
    }

    byte[] toBytes() {
      int size = 4;
      for (String s : bySymbol.keySet()) size += 4 + s.getBytes(StandardCharsets.UTF_8).length + 32;
      ByteBuffer out = ByteBuffer.allocate(size).putInt(bySymbol.size());
      bySymbol.forEach((s, a) -> {
        byte[] name = s.getBytes(StandardCharsets.UTF_8);
        out.putInt(name.length).put(name).putLong(a[0]).putLong(a[1]).putLong(a[2]).putLong(a[3]);
      });
      return out.array();
    }

    static TraderWindow fromBytes(byte[] b) {
      ByteBuffer in = ByteBuffer.wrap(b);
      TraderWindow w = new TraderWindow();
      for (int n = in.getInt(); n > 0; n--) {
        byte[] name = new byte[in.getInt()];
        in.get(name);
        w.bySymbol.put(new String(name, StandardCharsets.UTF_8),
            new long[] {in.getLong(), in.getLong(), in.getLong(), in.getLong()});
      }
      return w;
    }
  }

  // ---- topologies ----

  static void buildS0(StreamsBuilder b, String in, String out) {
    // SELECT order_id, customer_id, order_date, total_amount FROM orders WHERE total_amount > 100
    b.stream(in, Consumed.with(Serdes.ByteArray(), readOnly(StreamsPeer::parseOrder)))
        .filter((k, o) -> o.totalCents() > 100_00)
        .mapValues(o -> json(g -> {
          g.writeNumberField("order_id", o.orderId());
          g.writeNumberField("customer_id", o.customerId());
          g.writeStringField("order_date", o.orderDate());
          g.writeNumberField("total_amount", BigDecimal.valueOf(o.totalCents(), 2));
        }))
        .to(out, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
  }

  static void buildS2(StreamsBuilder b, String in, String out) {
    // SELECT symbol, COUNT(*), AVG(price), MIN(price), MAX(price), SUM(quantity)
    // FROM market_data GROUP BY symbol -- EMIT CHANGES: one update per input record (cache off).
    Serde<Quote> quotes = readOnly(StreamsPeer::parseQuote);
    b.stream(in, Consumed.with(Serdes.String(), quotes))
        .groupByKey(Grouped.with(Serdes.String(), quotes)) // keyed by symbol: no repartition
        .aggregate(SymbolAgg::new, (sym, q, agg) -> agg.add(q),
            Materialized.<String, SymbolAgg, KeyValueStore<Bytes, byte[]>>as("s2-by-symbol")
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.serdeFrom((t, a) -> a.toBytes(),
                    (t, bytes) -> SymbolAgg.fromBytes(bytes))))
        .toStream()
        .mapValues((sym, a) -> json(g -> {
          g.writeStringField("symbol", sym);
          g.writeNumberField("COUNT(*)", a.count);
          g.writeNumberField("AVG(price)", avg(a.sumCents, a.count));
          g.writeNumberField("MIN(price)", BigDecimal.valueOf(a.minCents, 2));
          g.writeNumberField("MAX(price)", BigDecimal.valueOf(a.maxCents, 2));
          g.writeNumberField("SUM(quantity)", a.sumQty);
        }))
        .to(out, Produced.with(Serdes.String(), Serdes.ByteArray()));
  }

  static void buildS3a(StreamsBuilder b, String in, String out, boolean suppress) {
    // SELECT trader_id, symbol, COUNT(*), AVG(price), SUM(quantity), SUM(price * quantity)
    // FROM market_data GROUP BY trader_id, symbol WINDOW TUMBLING(trade_time, 1 minute) EMIT FINAL
    Serde<Trade> trades = readOnly(StreamsPeer::parseTrade);
    var windowed = b.stream(in, Consumed.with(Serdes.String(), trades)
            // event time = trade_time (the extractor sees the already deserialized value)
            .withTimestampExtractor((rec, prev) ->
                rec.value() instanceof Trade t ? t.tradeTime() : -1L))
        .groupByKey(Grouped.with(Serdes.String(), trades)) // keyed by trader_id: no repartition
        .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMinutes(1)));
    // Retention 1 day instead of the default size + grace (1 minute): a RocksDB window store is
    // cut into segments of max(retention / 2, 1 minute), each its own RocksDB instance; with the
    // benchmark's event time (1 s per record) the default opens and drops a RocksDB instance every
    // 60 records (100k records: 90 s instead of 6 s). Emission and late-record dropping go by
    // grace (none), not retention.
    var store = Materialized.<String, TraderWindow, WindowStore<Bytes, byte[]>>as("s3a-windows")
        .withRetention(Duration.ofDays(1))
        .withKeySerde(Serdes.String())
        .withValueSerde(Serdes.serdeFrom((t, w) -> w.toBytes(),
            (t, bytes) -> TraderWindow.fromBytes(bytes)));
    // EMIT FINAL: suppress(untilWindowCloses) by default (measured a little faster than
    // emitStrategy(onWindowClose), ~12.3 s vs ~13 s for 1M records); --s3a-emit close selects the
    // latter. Both emit a window once the task's stream time passes its end.
    KTable<Windowed<String>, TraderWindow> table = suppress
        ? windowed.aggregate(TraderWindow::new, (k, t, w) -> w.add(t), store)
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded())
                .withName("s3a-final"))
        : windowed.emitStrategy(EmitStrategy.onWindowClose())
            .aggregate(TraderWindow::new, (k, t, w) -> w.add(t), store);
    table.toStream()
        .flatMap((wk, w) -> {
          List<KeyValue<String, byte[]>> rows = new ArrayList<>(w.bySymbol.size());
          w.bySymbol.forEach((sym, a) -> rows.add(KeyValue.pair(wk.key(), json(g -> {
            g.writeStringField("trader_id", wk.key());
            g.writeStringField("symbol", sym);
            g.writeNumberField("COUNT(*)", a[0]);
            g.writeNumberField("AVG(price)", avg(a[1], a[0]));
            g.writeNumberField("SUM(quantity)", a[2]);
            g.writeNumberField("SUM(price * quantity)", BigDecimal.valueOf(a[3], 2));
            g.writeNumberField("window_start", wk.window().start());
          }))));
          return rows;
        })
        .to(out, Produced.with(Serdes.String(), Serdes.ByteArray()));
  }

  // ---- main ----

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = parseArgs(argv);
    StreamsBuilder builder = new StreamsBuilder();
    String in = args.get("input"), out = args.get("output");
    switch (args.get("scenario")) {
      case "S0" -> buildS0(builder, in, out);
      case "S2" -> buildS2(builder, in, out);
      case "S3a" -> buildS3a(builder, in, out,
          !"close".equals(args.getOrDefault("s3a-emit", "suppress")));
      default -> usage("unknown scenario " + args.get("scenario"));
    }

    Path tempState = null;
    String stateDir = args.get("state-dir");
    if (stateDir == null) {
      tempState = Files.createTempDirectory("sluice-ks-peer-");
      stateDir = tempState.toString();
    }
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, args.get("app-id"));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, args.getOrDefault("threads", "2"));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1); // changelogs on a single-node broker
    // No record cache: every aggregate update goes downstream at once (S2 emits per record, as
    // sluice does; S3a's final results do not wait for a cache flush at commit).
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
    // commit.interval.ms stays at its at_least_once default (30 s); producer linger.ms too.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // Internal (emitStrategy onWindowClose): look for closed windows on every record instead of
    // at most once per wall-clock second, which could leave the last closed windows unemitted
    // when the input stops.
    p.put("__emit.interval.ms.kstreams.windowed.aggregation__", 0L);

    KafkaStreams streams = new KafkaStreams(builder.build(), p);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING && before == KafkaStreams.State.REBALANCING) {
        System.err.println("kafka-streams peer: running " + args.get("scenario"));
      }
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
        stopped.countDown();
      }
    });
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("kafka-streams peer: stream thread failed: " + e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    final Path toDelete = tempState;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(10));
      if (toDelete != null) deleteTree(toDelete);
    }, "peer-shutdown"));

    streams.start();
    stopped.await();
    if (streams.state() == KafkaStreams.State.ERROR) {
      System.err.println("kafka-streams peer: stopped on an error");
      System.exit(1);
    }
  }

  // ---- JSON ----

  private static Order parseOrder(byte[] b) throws IOException {
    JsonNode n = JSON.readTree(b);
    return new Order(n.get("order_id").longValue(), n.get("customer_id").longValue(),
        n.get("order_date").textValue(), cents(n.get("total_amount")));
  }

  private static Quote parseQuote(byte[] b) throws IOException {
    JsonNode n = JSON.readTree(b);
    return new Quote(n.get("symbol").textValue(), cents(n.get("price")),
        n.get("quantity").longValue());
  }

  private static Trade parseTrade(byte[] b) throws IOException {
    JsonNode n = JSON.readTree(b);
    return new Trade(n.get("trader_id").textValue(), n.get("symbol").textValue(),
        cents(n.get("price")), n.get("quantity").longValue(), n.get("trade_time").longValue());
  }

  /** A JSON number as DECIMAL(12, 2), in cents. */
  private static long cents(JsonNode n) {
    return n.decimalValue().setScale(2, RoundingMode.HALF_UP).unscaledValue().longValueExact();
  }

  /** AVG of DECIMAL(12, 2): six decimals, as sluice writes it. */
  private static BigDecimal avg(long sumCents, long count) {
    return BigDecimal.valueOf(sumCents, 2).divide(BigDecimal.valueOf(count), 6,
        RoundingMode.HALF_UP);
  }

  private interface Fields {
    void write(JsonGenerator g) throws IOException;
  }

  private interface Parser<T> {
    T parse(byte[] b) throws IOException;
  }

  /** One JSON object, its fields in the order written. */
  private static byte[] json(Fields fields) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(160);
    try (JsonGenerator g = JSON.getFactory().createGenerator(buf)) {
      g.writeStartObject();
      fields.write(g);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buf.toByteArray();
  }

  /** A serde that only reads (input values are never written back). */
  private static <T> Serde<T> readOnly(Parser<T> parser) {
    Serializer<T> none = (topic, v) -> {
      throw new UnsupportedOperationException("input rows are not serialized");
    };
    Deserializer<T> read = (topic, b) -> {
      if (b == null) return null;
      try {
        return parser.parse(b);
      } catch (IOException e) {
        throw new UncheckedIOException("bad JSON input in " + topic, e);
      }
    };
    return Serdes.serdeFrom(none, read);
  }

  // ---- arguments ----

  private static Map<String, String> parseArgs(String[] argv) {
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i < argv.length; i += 2) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) usage("bad argument " + argv[i]);
      args.put(argv[i].substring(2), argv[i + 1]);
    }
    for (String need : List.of("bootstrap", "scenario", "input", "output", "app-id")) {
      if (!args.containsKey(need)) usage("missing --" + need);
    }
    return args;
  }

  private static void usage(String why) {
    System.err.println("kafka-streams peer: " + why + "\nusage: StreamsPeer --bootstrap HOST:PORT"
        + " --scenario S0|S2|S3a --input TOPIC --output TOPIC --app-id ID [--threads N]"
        + " [--state-dir DIR] [--s3a-emit close|suppress]");
    System.exit(2);
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a temporary directory
    }
  }
}
