import { CreateTagsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../src/aws/aws-clients.js';
import { s3ObjectUrl } from '../src/aws/s3-url.js';
import type { ServiceCatalogEmulator } from './aws/service-catalog/index.js';

export interface CatalogDemoOptions {
  aws: AwsClients;
  catalog: ServiceCatalogEmulator;
  bucket: string;
  approvedTypesParameter: string;
  approvedTypes: string[];
  productName: string;
  instanceType: string;
  /** How many instances to launch from the product (hosts of one product). */
  instances?: number;
  templateFormat?: 'json' | 'yaml';
}

export interface CatalogDemo {
  productId: string;
  provisioningArtifactId: string;
  templateUrl: string;
  instances: { instanceId: string; provisionedProductId: string }[];
}

/** A web-server product as a platform team would publish it: the instance type is a parameter. */
export function webServerTemplate(instanceType: string, format: 'json' | 'yaml'): string {
  if (format === 'yaml') {
    return `AWSTemplateFormatVersion: '2010-09-09'
Description: Web server (sized by Dynatrace Autopilot when CPU keeps saturating)
Parameters:
  InstanceType:
    Type: String
    Default: ${instanceType}   # smallest approved size
    AllowedValues:
      - ${instanceType}
    Description: EC2 instance type
  ImageId:
    Type: AWS::EC2::Image::Id
    Default: ami-12c6146b
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
      ImageId: !Ref ImageId
      Tags:
        - Key: Name
          Value: !Sub '\${AWS::StackName}-web'
Outputs:
  InstanceId:
    Value: !Ref WebServer
`;
  }
  return (
    JSON.stringify(
      {
        AWSTemplateFormatVersion: '2010-09-09',
        Description: 'Web server (sized by Dynatrace Autopilot when CPU keeps saturating)',
        Parameters: {
          InstanceType: {
            Type: 'String',
            Default: instanceType,
            AllowedValues: [instanceType],
            Description: 'EC2 instance type',
          },
          ImageId: { Type: 'AWS::EC2::Image::Id', Default: 'ami-12c6146b' },
        },
        Resources: {
          WebServer: {
            Type: 'AWS::EC2::Instance',
            Properties: {
              InstanceType: { Ref: 'InstanceType' },
              ImageId: { Ref: 'ImageId' },
              Tags: [{ Key: 'Name', Value: { 'Fn::Sub': '${AWS::StackName}-web' } }],
            },
          },
        },
        Outputs: { InstanceId: { Value: { Ref: 'WebServer' } } },
      },
      null,
      2,
    ) + '\n'
  );
}

/**
 * Seeds what a self-healing run needs on the AWS side, in moto and the Service Catalog emulator:
 * the template in S3, the approved instance types in SSM, a product whose first version uses the
 * smallest type, and EC2 instances launched from it, tagged the way Service Catalog's AutoTags do.
 */
export async function seedCatalogDemo(options: CatalogDemoOptions): Promise<CatalogDemo> {
  const { aws, catalog } = options;
  const format = options.templateFormat ?? 'json';
  await aws.s3.send(new CreateBucketCommand({ Bucket: options.bucket })).catch((err: { name?: string }) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
  const key = `products/${options.productName}/v1.${format}`;
  await aws.s3.send(
    new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: webServerTemplate(options.instanceType, format) }),
  );
  const templateUrl = s3ObjectUrl({
    bucket: options.bucket,
    key,
    region: aws.region,
    ...(aws.s3Endpoint ? { endpoint: aws.s3Endpoint } : {}),
  });
  await aws.ssm.send(
    new PutParameterCommand({
      Name: options.approvedTypesParameter,
      Type: 'StringList',
      Value: options.approvedTypes.join(','),
      Overwrite: true,
    }),
  );
  const product = await catalog.seedProduct({
    name: options.productName,
    owner: 'platform-team',
    artifact: { name: `v1-${options.instanceType}`, description: options.instanceType, templateUrl },
  });
  const instances: CatalogDemo['instances'] = [];
  for (let i = 0; i < (options.instances ?? 1); i++) {
    const provisioned = catalog.seedProvisionedProduct({
      name: `${options.productName}-${i + 1}`,
      productId: product.productId,
    });
    const launched = await aws.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: options.instanceType as 't3.micro',
        MinCount: 1,
        MaxCount: 1,
      }),
    );
    const instanceId = launched.Instances![0]!.InstanceId!;
    await aws.ec2.send(
      new CreateTagsCommand({
        Resources: [instanceId],
        Tags: [
          ...provisioned.autoTags.map((t) => ({ Key: t.Key, Value: t.Value })),
          { Key: 'aws:cloudformation:stack-name', Value: provisioned.stackName },
          { Key: 'Name', Value: `${options.productName}-${i + 1}` },
        ],
      }),
    );
    instances.push({ instanceId, provisionedProductId: provisioned.id });
  }
  return {
    productId: product.productId,
    provisioningArtifactId: product.provisioningArtifactId,
    templateUrl,
    instances,
  };
}
