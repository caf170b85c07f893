// SPDX-License-Identifier: GPL-2.0
/*
 * lt-stranded-probe: one thread in epoll_wait(-1)-like waits (5 s
 * timeout) on three level-triggered items: a 0.7 ms periodic timerfd, an
 * eventfd and a socket that a feeder thread signals at random. MODE bits
 * add a thread that poll(2)s the epoll fd (2) and one that EPOLL_CTL_MODs
 * the socket (4). A 5 s wait that returns nothing while the timer runs is
 * a stranded waiter: it prints LTSTRESS STRANDED and exits 1.
 *
 * Usage: lt-stranded-probe [SECONDS [MODE]]   (default 60 7)
 * Written to chase the userspace boot's weston report (issue 28); it has
 * not found a stranding on base, old v8 or the series.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

static int ep, tfd, efd, sv[2], stop, mode;
static uint64_t now_ms(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000ULL+t.tv_nsec/1000000;}
static void *feeder(void *a){ uint64_t one=1; while(!stop){ usleep(200+rand()%3000); if(rand()%2) write(efd,&one,8); else send(sv[1],"x",1,MSG_DONTWAIT);} return NULL;}
static void *poller(void *a){ struct pollfd p={.fd=ep,.events=POLLIN}; while(!stop){ poll(&p,1,0); usleep(rand()%500);} return NULL;}
static void *modder(void *a){ struct epoll_event e={.events=EPOLLIN,.data.fd=sv[0]}; while(!stop){ e.events = (rand()%2)? EPOLLIN : (EPOLLIN|EPOLLRDHUP); epoll_ctl(ep,EPOLL_CTL_MOD,sv[0],&e); usleep(rand()%1000);} return NULL;}
int main(int argc,char**argv){
	int secs = argc>1?atoi(argv[1]):60; mode = argc>2?atoi(argv[2]):7;
	struct epoll_event e; pthread_t th[3]; uint64_t v, t0=now_ms(), n=0, maxgap=0; char buf[256];
	ep=epoll_create1(0); tfd=timerfd_create(CLOCK_MONOTONIC,TFD_NONBLOCK); efd=eventfd(0,EFD_NONBLOCK); socketpair(AF_UNIX,SOCK_STREAM|SOCK_NONBLOCK,0,sv);
	struct itimerspec its={.it_interval.tv_nsec=700000,.it_value.tv_nsec=700000}; timerfd_settime(tfd,0,&its,NULL);
	e.events=EPOLLIN; e.data.fd=tfd; epoll_ctl(ep,EPOLL_CTL_ADD,tfd,&e);
	e.data.fd=efd; epoll_ctl(ep,EPOLL_CTL_ADD,efd,&e);
	e.data.fd=sv[0]; epoll_ctl(ep,EPOLL_CTL_ADD,sv[0],&e);
	pthread_create(&th[0],NULL,feeder,NULL);
	if(mode&2) pthread_create(&th[1],NULL,poller,NULL);
	if(mode&4) pthread_create(&th[2],NULL,modder,NULL);
	while(now_ms()<t0+secs*1000ULL){
		struct epoll_event evs[8]; uint64_t b=now_ms();
		int r=epoll_wait(ep,evs,8,5000);
		uint64_t g=now_ms()-b;
		if(r==0){ /* 5 s without any event while a 0.7 ms timer runs: stranded */
			struct pollfd p[3]={{tfd,POLLIN},{efd,POLLIN},{sv[0],POLLIN}}; poll(p,3,0);
			printf("LTSTRESS STRANDED after %llu waits: epoll_wait 5 s timeout, ready: timer %d efd %d sock %d\n",(unsigned long long)n,p[0].revents,p[1].revents,p[2].revents); fflush(stdout); stop=1; _exit(1);}
		if(g>maxgap) maxgap=g;
		for(int i=0;i<r;i++){ int fd=evs[i].data.fd; if(fd==sv[0]) while(recv(sv[0],buf,sizeof buf,0)>0); else read(fd,&v,8);} n++;
	}
	stop=1; printf("LTSTRESS ok: %llu waits in %d s, longest wait %llu ms, mode %d\n",(unsigned long long)n,secs,(unsigned long long)maxgap,mode); fflush(stdout); _exit(0);
}
