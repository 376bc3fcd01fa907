// Benchmark peers and micro-measurements for the scripts under Benchmarks/.
//
//   herald-bench claim-loop DB_PATH ROWS              raw SQLite claim+done through GRDB
//   herald-bench render [SECONDS]                     a 2 KB HTML email with 10 tokens, one core
//   herald-bench render-template TEMPLATES NAME [SECONDS [MESSAGE_FILE]]
//                                                     one shipped template with its sample, or with
//                                                     the first message of an NDJSON file
//   herald-bench insert-batched DB_PATH ROWS          raw SQLite batched insert of the ingest rows
//   herald-bench pg-claim-loop URL ROWS               raw PostgreSQL claim+done through postgres-nio
//   herald-bench bounce-parse CORPUS_DIR COUNT        bounce reports read (MIME, report, VERP), one core
import Foundation

let arguments = CommandLine.arguments
switch (arguments.count > 1 ? arguments[1] : "", arguments.count) {
case ("claim-loop", 4) where Int(arguments[3]) != nil:
    try runClaimLoop(path: arguments[2], rows: Int(arguments[3])!)
case ("render", 2), ("render", 3):
    try runRender(seconds: arguments.count == 3 ? Double(arguments[2]) ?? 3 : 3)
case ("render-template", 4), ("render-template", 5), ("render-template", 6):
    try runRenderTemplate(folder: arguments[2], name: arguments[3], seconds: arguments.count >= 5 ? Double(arguments[4]) ?? 3 : 3,
                          messageFile: arguments.count == 6 ? arguments[5] : nil)
case ("insert-batched", 4) where Int(arguments[3]) != nil:
    try runInsertBatched(path: arguments[2], rows: Int(arguments[3])!)
case ("pg-claim-loop", 4) where Int(arguments[3]) != nil:
    try await runPostgresClaimLoop(url: arguments[2], rows: Int(arguments[3])!)
case ("bounce-parse", 4) where Int(arguments[3]) != nil:
    try runBounceParse(corpus: arguments[2], count: Int(arguments[3])!)
default:
    FileHandle.standardError.write(Data("""
        usage: herald-bench claim-loop DB_PATH ROWS
               herald-bench render [SECONDS]
               herald-bench render-template TEMPLATES_FOLDER NAME [SECONDS [MESSAGE_FILE]]
               herald-bench insert-batched DB_PATH ROWS
               herald-bench pg-claim-loop URL ROWS
               herald-bench bounce-parse CORPUS_DIR COUNT

        """.utf8))
    exit(2)
}
