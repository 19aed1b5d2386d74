/* SPDX-License-Identifier: MIT */
/* fake_dev.c — creating and destroying a fake device. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- create / destroy --------------------------------------------------------------------------------------------- */

static int bad_params(const struct virtq_fake_params *p)
{
    int i;
    if (p == NULL || (p->version != 0 && p->version != 1 && p->version != 2) || p->num_queues < 0 ||
        p->num_queues > VIRTQ_FAKE_MAX_QUEUES || p->config_len > VIRTQ_FAKE_CONFIG_MAX ||
        (p->config_len && p->config == NULL) || p->num_config_fields < 0 ||
        (p->num_config_fields && p->config_fields == NULL)) {
        fprintf(stderr, "fake: virtq_fake_create: bad parameters\n");
        return 1;
    }
    for (i = 0; i < p->num_queues; i++)
        if (p->queue_num_max[i] > VIRTQ_MAX_SIZE) {
            fprintf(stderr, "fake: virtq_fake_create: QueueNumMax %u > %u\n", p->queue_num_max[i], VIRTQ_MAX_SIZE);
            return 1;
        }
    return 0;
}

static void init_sync(struct virtq_fake_dev *d)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&d->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->kick_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&d->kick_lock, NULL);
}

static void init_from_params(struct virtq_fake_dev *d, const struct virtq_fake_params *p)
{
    int i;
    d->version = p->version ? p->version : 2;
    d->device_id = p->device_id;
    d->vendor_id = p->vendor_id ? p->vendor_id : 0x554d4551u;
    d->offered = p->features;
    d->nq = p->num_queues;
    for (i = 0; i < d->nq; i++) {
        d->q[i].num_max = p->queue_num_max[i] ? p->queue_num_max[i] : 256;
        fk_queue_defaults(&d->q[i]);
    }
    d->config_len = p->config_len;
    d->config = fk_xcalloc(p->config_len ? p->config_len : 1, 1);
    if (p->config_len)
        memcpy(d->config, p->config, p->config_len);
    d->nfields = p->num_config_fields;
    if (d->nfields) {
        d->fields = fk_xcalloc((size_t)d->nfields, sizeof *d->fields);
        memcpy(d->fields, p->config_fields, sizeof *d->fields * (size_t)d->nfields);
    }
    d->model = p->model;
    d->model_ctx = p->model_ctx;
    d->mode = VIRTQ_FAKE_SYNC;
    d->rng = 0x9e3779b97f4a7c15ull;
    d->max_delay_us = 200;
    fk_packed_default(d); /* the VIRTQ_FAKE_RING=packed knob */
}

static void free_dev(struct virtq_fake_dev *d)
{
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->kick_lock);
    pthread_cond_destroy(&d->kick_cond);
    free(d->fields);
    free(d->config);
    free(d);
}

/* 1. check the parameters, 2. build the device, 3. give it a window in
   the device table (only then can the driver reach it). */
struct virtq_fake_dev *virtq_fake_create(const struct virtq_fake_params *p)
{
    struct virtq_fake_dev *d;
    if (bad_params(p))
        return NULL;
    d = fk_xcalloc(1, sizeof *d);
    init_sync(d);
    init_from_params(d, p);
    if (fk_registry_add(d, p->base) != 0) {
        free_dev(d);
        return NULL;
    }
    return d;
}

void virtq_fake_destroy(struct virtq_fake_dev *dev)
{
    int i;
    if (dev == NULL)
        return;
    virtq_fake_stop_thread(dev);
    fk_registry_remove(dev);
    fk_dev_lock(dev);
    for (i = 0; i < dev->nq; i++)
        fk_queue_teardown(&dev->q[i], 1);
    dev->raise_pending = 0;
    fk_dev_unlock(dev); /* hands over undelivered violations */
    if (dev->model && dev->model->destroy)
        dev->model->destroy(dev->model_ctx);
    free_dev(dev);
}
