# The relay benchmark's plots, from the data files report.py writes.
#   gnuplot -e "data='DIR'; out='DIR'" bench/relay/plot.gp
# Medians of the run; bench/results.md has the spread.
set terminal pngcairo size 900,420 font "sans,10"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key above
set xtics rotate by -25 scale 0
set datafile missing "NaN"
# Histogram clusters sit at x = 0, 1, ...: no empty slot on the left.
set xrange [-0.6:*]

set output out."/throughput.png"
set title "Bulk throughput through each relay (iperf3, median)"
set ylabel "Gbit/s"
set yrange [0:*]
plot data."/throughput.dat" using 2:xtic(1) title "1 stream up", \
     '' using 3 title "1 stream down", \
     '' using 4 title "4 streams up", \
     '' using 5 title "4 streams down"

set output out."/connrate.png"
set title "New connections per second, one request each (wrk, median); p99 latency on the right"
set ylabel "connections/s"
set y2label "p99 latency, ms"
set y2tics
set y2range [0:*]
plot data."/connrate.dat" using 2:xtic(1) title "connections/s", \
     '' using 0:4 axes x1y2 with linespoints pt 7 lw 2 title "p99 ms"
unset y2label
unset y2tics

set output out."/memory.png"
set title "Memory per idle connection (median; log scale)"
set ylabel "bytes per connection"
set logscale y
set yrange [1:*]
plot data."/memory.dat" using 2:xtic(1) title "relay user space (RSS growth)", \
     '' using 3 title "kernel slab, less the direct path's"
unset logscale y

set output out."/cpu.png"
set title "CPU seconds per GB relayed (median over the iperf3 runs)"
set ylabel "CPU s / GB"
set yrange [0:*]
plot data."/cpu.dat" using 2:xtic(1) title "relay processes", \
     '' using 3 title "whole machine (client and server included)"
