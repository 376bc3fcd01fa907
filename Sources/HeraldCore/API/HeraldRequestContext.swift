import Hummingbird
import NIOCore

/// What a route knows about its request beyond the request itself: the peer it came from, which
/// the tracking routes judge (Apple's mail privacy proxy fetches from its own addresses). On the
/// unix socket the peer has no IP address.
public struct HeraldRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
