# The ingest plot of docs/performance.md: notes/s and p99 latency against the
# number of clients, for the bare responder, libcoap and mydailyd.
#
#   gnuplot -e "datafile='ingest.dat'; outfile='performance.png'" docs/performance.gp
#
# tests/bench/md-bench-report.sh runs it on the data file md-bench writes
# (columns: clients, then rate, p50 and p99 of bare, libcoap, mydailyd).
if (!exists("datafile")) datafile = 'ingest.dat'
if (!exists("outfile")) outfile = 'performance.png'

set terminal pngcairo size 1200,480 font "sans,10"
set output outfile
set datafile missing "NaN"
set key top left
set grid
set logscale x 2
set xlabel "clients (one CON POST outstanding each)"
set xtics (1, 4, 16, 64)
set offsets graph 0.05, graph 0.05, 0, 0

set multiplot layout 1,2 title "mydaily ingest on loopback (".system("sed -n 's/^# md-bench ingest, \\([^;]*\\);.*/\\1/p' ".datafile).")"

set title "throughput"
set ylabel "requests/s"
set yrange [0:*]
plot datafile using 1:2 with linespoints lw 2 pt 7 title "bare responder (stores nothing)", \
     datafile using 1:5 with linespoints lw 2 pt 5 title "coap-server-notls (PUT, memory)", \
     datafile using 1:8 with linespoints lw 2 pt 9 title "mydailyd (POST, fdatasync)"

set title "99th percentile latency"
set key bottom right opaque
set ylabel "p99 (µs)"
set logscale y 10
set yrange [*:*]
plot datafile using 1:4 with linespoints lw 2 pt 7 title "bare responder", \
     datafile using 1:7 with linespoints lw 2 pt 5 title "coap-server-notls", \
     datafile using 1:10 with linespoints lw 2 pt 9 title "mydailyd"

unset multiplot
