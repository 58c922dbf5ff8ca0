/*
 * hangfs.c - a tiny FUSE filesystem whose statfs hangs, for testing the
 * filesystem collector against a hung mount (tests/integration/040_fs_hung_mount.sh).
 *
 *   hangfs MOUNTPOINT FLAGFILE     (FLAGFILE must exist when it starts)
 *
 * Mounts an empty read-only directory at MOUNTPOINT (fstype fuse.hangfs,
 * source "hangfs") and stays in the foreground. While FLAGFILE exists,
 * statfs(2) on the mount blocks in the kernel - the way a dead NFS server
 * or a wedged FUSE daemon makes it block - for at most 10 minutes; remove
 * the file and every pending and later statfs answers at once. Getattr of
 * the root always answers, so the mount itself can be checked.
 *
 * Built by tests/mk/hangfs.mk with libfuse3 when pkg-config finds it;
 * without it the program only says so and exits 77 (the test then skips).
 */
#ifdef HAVE_FUSE3
#define FUSE_USE_VERSION 31
#include <fuse.h>
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_FUSE3

/* The flag's path, absolute (FUSE daemons chdir to /). Set once in main. */
typedef struct hangfs_conf {
    char flag[4096];
} hangfs_conf;

static hangfs_conf *conf_get(void)
{
    return fuse_get_context()->private_data;
}

static void wait_while_flagged(void)
{
    const hangfs_conf *c = conf_get();
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 10 * 60 * 50 && access(c->flag, F_OK) == 0; i++)
        nanosleep(&ts, NULL);
}

static int hang_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    memset(st, 0, sizeof *st);
    if (strcmp(path, "/") != 0)
        return -ENOENT;
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
    return 0;
}

static int hang_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                        struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off;
    (void)fi;
    (void)flags;
    if (strcmp(path, "/") != 0)
        return -ENOENT;
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    return 0;
}

static int hang_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    wait_while_flagged();
    memset(st, 0, sizeof *st);
    st->f_bsize = 4096;
    st->f_frsize = 4096;
    st->f_blocks = 1024;
    st->f_bfree = 512;
    st->f_bavail = 256;
    st->f_files = 100;
    st->f_ffree = 50;
    st->f_namemax = 255;
    return 0;
}

static void *hang_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->attr_timeout = 0;
    cfg->entry_timeout = 0;
    return fuse_get_context()->private_data;
}

static const struct fuse_operations hang_ops = {
    .getattr = hang_getattr,
    .readdir = hang_readdir,
    .statfs = hang_statfs,
    .init = hang_init,
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MOUNTPOINT FLAGFILE\n", argv[0]);
        return 2;
    }
    static hangfs_conf conf;
    /* the flag must exist now; resolve it before FUSE changes directory */
    if (!realpath(argv[2], conf.flag)) {
        perror("hangfs: FLAGFILE");
        return 2;
    }
    char *fargv[] = {argv[0], "-f", "-o", "ro,fsname=hangfs,subtype=hangfs", argv[1], NULL};
    return fuse_main(5, fargv, &hang_ops, &conf);
}

#else

int main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "%s: built without libfuse3 (pkg-config fuse3 not found)\n", argv[0]);
    return 77;
}

#endif
