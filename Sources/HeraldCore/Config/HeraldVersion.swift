/// The version Herald reports to remotes and in `--version`.
public enum HeraldVersion {
    public static let current = "0.1.0"
    public static let userAgent = "Herald/\(current)"
}
