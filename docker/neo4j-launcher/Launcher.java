// Embedded Neo4j 5.26 Community test server with a Bolt connector.
// Run: java -cp "$(cat classpath.txt)" Launcher.java --port P --data-dir DIR
// Loopback only, a local test server: never expose it. Auth is off unless the environment
// variable KGREC_NEO4J_PASSWORD is set (8+ characters): then it is on, and user neo4j gets that
// password on the first start of a data directory (no change required). Read from the environment, not the
// command line, so that it does not show in the process list.

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

public class Launcher {
    public static void main(String[] args) throws Exception {
        int port = -1;
        Path dataDir = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--port") && i + 1 < args.length) {
                port = Integer.parseInt(args[++i]);
            } else if (a.equals("--data-dir") && i + 1 < args.length) {
                dataDir = Path.of(args[++i]);
            } else {
                usage("unknown argument: " + a);
            }
        }
        if (port <= 0 || port > 65535 || dataDir == null) {
            usage("--port and --data-dir are required");
        }
        dataDir = dataDir.toAbsolutePath();
        Files.createDirectories(dataDir);
        long pageCacheMb = Long.getLong("kgrec.pagecache.mb", 256);
        long txMemMb = Long.getLong("kgrec.txmem.mb", 512);
        String password = System.getenv("KGREC_NEO4J_PASSWORD");
        boolean auth = password != null && !password.isEmpty();

        SocketAddress bolt = new SocketAddress("127.0.0.1", port);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(dataDir)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                // server-side routing (for clusters) is not needed; keep it off
                .setConfig(GraphDatabaseSettings.routing_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, ByteUnit.mebiBytes(txMemMb))
                .setConfig(GraphDatabaseSettings.logs_directory, dataDir.resolve("logs"))
                // no 2x5 s Netty quiet period on shutdown (databases are already checkpointed)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("NEO4J_STOPPING");
            System.out.flush();
            try {
                dbms.shutdown();
            } finally {
                stopped.countDown();
            }
        }, "neo4j-shutdown"));

        if (auth) {
            try {
                setInitialPassword(dbms, password);
            } catch (RuntimeException e) {
                dbms.shutdown();
                throw e;
            }
        }
        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        while (!db.isAvailable(1000)) {
            System.err.println("waiting for database " + db.databaseName());
        }
        System.out.println("NEO4J_READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    // On the first start of a data directory, user neo4j still has to change the default
    // password: set ours instead. Embedded transactions bypass auth; the system database holds
    // the users. Later starts keep the password (Neo4j refuses to "change" it to itself).
    private static void setInitialPassword(DatabaseManagementService dbms, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        boolean initial = system.executeTransactionally(
                "SHOW USERS YIELD user, passwordChangeRequired WHERE user = 'neo4j' "
                        + "RETURN passwordChangeRequired",
                Map.of(),
                result -> result.hasNext() && (Boolean) result.next().get("passwordChangeRequired"));
        if (initial) {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        }
    }

    private static void usage(String msg) {
        System.err.println(msg);
        System.err.println("usage: Launcher --port P --data-dir DIR");
        System.exit(2);
    }
}
