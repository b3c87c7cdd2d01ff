/// Video-like token grid: token index = (frame·height + y)·width + x.
public struct VideoShape: Sendable, Equatable {
    public var frames: Int, height: Int, width: Int
    public init(frames: Int, height: Int, width: Int) {
        precondition(frames >= 1 && height >= 1 && width >= 1)
        self.frames = frames; self.height = height; self.width = width
    }
    public var tokens: Int { frames * height * width }
}
