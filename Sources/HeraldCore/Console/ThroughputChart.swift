/// Sent messages per minute as an inline SVG bar chart (no script, no external library).
enum ThroughputChart {
    static func svg(_ perMinute: [Int], width: Int = 720, height: Int = 140) -> String {
        let peak = max(perMinute.max() ?? 0, 1)
        let barWidth = Double(width) / Double(max(perMinute.count, 1))
        var bars = ""
        for (index, count) in perMinute.enumerated() where count > 0 {
            let barHeight = Double(height - 20) * Double(count) / Double(peak)
            let x = Double(index) * barWidth
            bars += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f4e79\"><title>%d sent</title></rect>",
                           x + 1, Double(height - 16) - barHeight, max(barWidth - 2, 1), barHeight, count)
        }
        return """
            <svg id="throughput" xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" role="img" aria-label="messages sent per minute">
            <rect width="\(width)" height="\(height)" fill="#fff" stroke="#d5dce4"/>\(bars)
            <text x="4" y="\(height - 3)" font-size="11" fill="#6b7785">60 min ago</text>
            <text x="\(width - 4)" y="\(height - 3)" font-size="11" fill="#6b7785" text-anchor="end">now · peak \(peak)/min</text>
            </svg>
            """
    }
}
