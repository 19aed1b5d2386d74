# ns per request against batch size (bench/results/ring_batch.dat, written
# by ring_sweep.py): one panel per chain length, one line per way of
# waiting, EVENT_IDX off (dashed) and on (solid).
#   gnuplot -e "dat='bench/results/ring_batch.dat'; out='bench/results/ring_batch.png'" bench/ring_chart.gp
if (!exists("dat")) dat = 'bench/results/ring_batch.dat'
if (!exists("out")) out = 'bench/results/ring_batch.png'
set terminal pngcairo size 1100,520 font ",10"
set output out
set multiplot layout 1,2 title "virtq split ring, two threads, ring 256: ns per request (best run) against batch size"
set logscale x 2
set logscale y 10
set xrange [0.8:40]
set xtics ("1" 1, "8" 8, "32" 32)
set xlabel "batch (requests per publish / per used.idx update)"
set ylabel "ns per request"
set grid ytics mytics xtics
set key below maxrows 3 width -2
set style line 1 lc rgb "#1f77b4" lw 2 dt 2 pt 7
set style line 2 lc rgb "#1f77b4" lw 2 dt 1 pt 7
set style line 3 lc rgb "#d62728" lw 2 dt 2 pt 5
set style line 4 lc rgb "#d62728" lw 2 dt 1 pt 5
set style line 5 lc rgb "#2ca02c" lw 2 dt 2 pt 9
set style line 6 lc rgb "#2ca02c" lw 2 dt 1 pt 9
do for [blk=0:1] {
    set title (blk == 0 ? "1 segment per request" : "3 segments per request (1 out, 2 in)")
    plot dat index blk using 1:2 with linespoints ls 1 title "poll, event idx off", \
         ''  index blk using 1:3 with linespoints ls 2 title "poll, event idx on", \
         ''  index blk using 1:4 with linespoints ls 3 title "sleep eventfd, off", \
         ''  index blk using 1:5 with linespoints ls 4 title "sleep eventfd, on", \
         ''  index blk using 1:6 with linespoints ls 5 title "sleep futex, off", \
         ''  index blk using 1:7 with linespoints ls 6 title "sleep futex, on"
}
unset multiplot
