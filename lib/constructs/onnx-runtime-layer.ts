/**
 * The onnxruntime-node Lambda layer: built from the installed package at synth, without Docker or the
 * network, and pruned to one architecture's Linux binaries.
 */
import { AssetHashType, DockerImage, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CopyFilesBundling } from './private/bundling';
import { type NodeArch, onnxRuntimeFiles } from './private/onnxruntime-files';

/** Properties of an {@link OnnxRuntimeLayer}. */
export interface OnnxRuntimeLayerProps {
  /**
   * The architecture whose binaries the layer holds; functions using it must have the same.
   * @default lambda.Architecture.X86_64
   */
  readonly architecture?: lambda.Architecture;
}

/** Node's name for a Lambda architecture: the directory onnxruntime-node keeps its binaries in. */
function nodeArch(architecture: lambda.Architecture): NodeArch {
  if (architecture.name === lambda.Architecture.X86_64.name) return 'x64';
  if (architecture.name === lambda.Architecture.ARM_64.name) return 'arm64';
  throw new Error(`onnxruntime-node has Lambda binaries for x86_64 and arm64 only, not ${architecture.name}`);
}

/** The construct id of each architecture's stack-wide layer (ids are part of the contract: never rename). */
const SHARED_LAYER_ID: Record<NodeArch, string> = {
  x64: 'ModelshipOnnxRuntimeLayerX8664',
  arm64: 'ModelshipOnnxRuntimeLayerArm64',
};

/**
 * onnxruntime-node and onnxruntime-common, at /opt/nodejs/node_modules, with only the JavaScript and
 * the `bin/napi-v*\/linux/<arch>` binaries of the installed onnxruntime-node.
 */
export class OnnxRuntimeLayer extends lambda.LayerVersion {
  /**
   * The stack-wide layer for an architecture, created on first use: every LambdaModel of a stack with
   * that architecture shares one layer version.
   */
  static of(scope: Construct, architecture: lambda.Architecture = lambda.Architecture.X86_64): OnnxRuntimeLayer {
    const stack = Stack.of(scope);
    const id = SHARED_LAYER_ID[nodeArch(architecture)];
    const existing = stack.node.tryFindChild(id);
    if (existing instanceof OnnxRuntimeLayer) return existing;
    return new OnnxRuntimeLayer(stack, id, { architecture });
  }

  /** The architecture whose binaries the layer holds. */
  readonly architecture: lambda.Architecture;
  /** The installed onnxruntime-node version the layer was built from. */
  readonly onnxRuntimeVersion: string;
  /** Unzipped size of the layer's files, in bytes. */
  readonly unzippedBytes: number;
  /** Changes whenever the layer's content would: its version, architecture and file list. */
  readonly fingerprint: string;

  constructor(scope: Construct, id: string, props: OnnxRuntimeLayerProps = {}) {
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const arch = nodeArch(architecture);
    const { packageDir, version, files, bytes } = onnxRuntimeFiles(arch);
    super(scope, id, {
      code: lambda.Code.fromAsset(packageDir, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled or run: the local copy always succeeds, so Docker is never reached.
          image: DockerImage.fromRegistry('modelship/layers-are-built-locally'),
          local: new CopyFilesBundling(files),
        },
      }),
      compatibleArchitectures: [architecture],
      compatibleRuntimes: [lambda.Runtime.NODEJS_20_X, lambda.Runtime.NODEJS_22_X, lambda.Runtime.NODEJS_24_X],
      description: `onnxruntime-node ${version} for linux/${arch}, pruned by modelship`,
      license: 'MIT',
    });
    this.architecture = architecture;
    this.onnxRuntimeVersion = version;
    this.unzippedBytes = bytes;
    this.fingerprint = `onnxruntime-node@${version}/linux-${arch}/${files.length}files/${bytes}bytes`;
  }
}
